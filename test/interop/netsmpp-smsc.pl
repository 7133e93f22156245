#!/usr/bin/perl
# An SMSC built on Debian's Net::SMPP (libnet-smpp-perl), for interop tests.
# Net::SMPP does all the protocol work: listening, PDU framing, encoding and
# decoding, TLVs. This glue only decides what to answer and reports what it
# saw. One process serves every connection through select().
#
# Usage: netsmpp-smsc.pl --system-id ID --password PW [--port N]
# stdout: one JSON object per line ({"event":"listening","port":N} first, then
#         one per PDU received, with the decoded fields; binary fields in hex).
# stdin:  one JSON command per line: {"op":"ids","format":"hex"|"decimal"},
#         {"op":"deliver_sm","conn":N,"ref":"r1",...fields,"tlvs":{...}},
#         {"op":"enquire_link","conn":N,"ref":...}, {"op":"unbind","conn":N,"ref":...}.
use strict;
use warnings;
use Getopt::Long;
use IO::Select;
use JSON::PP;
use Net::SMPP;

my ($system_id, $password, $port) = ('', '', 0);
GetOptions('system-id=s' => \$system_id, 'password=s' => \$password, 'port=i' => \$port) or die "bad arguments\n";

my $json = JSON::PP->new->canonical->utf8;
$| = 1;
sub emit { print $json->encode({@_}), "\n" }

my $listener = Net::SMPP->new_listen('127.0.0.1', port => $port, smpp_version => 0x34, system_id => 'NETSMPP')
  or die "cannot listen: $!\n";
emit(event => 'listening', port => $listener->sockport);

my $select = IO::Select->new($listener, \*STDIN);
my (%conn_of, %sock_of);    # socket -> connection number, and back
my $next_conn = 0;
my $id_format = 'hex';
my $next_id = 0x0A1B2C;     # hex ids look like "0A1B2C", decimal ones like "123456789"

sub new_message_id {
  my $n = $next_id++;
  return $id_format eq 'hex' ? sprintf('%06X', $n) : sprintf('%d', 123456789 + $n - 0x0A1B2C);
}

sub close_conn {
  my ($c) = @_;
  my $n = delete $conn_of{$c};
  return unless defined $n;
  delete $sock_of{$n};
  $select->remove($c);
  close $c;
  emit(event => 'closed', conn => $n);
}

my %bind_resp = (
  0x00000001 => 'bind_receiver_resp',
  0x00000002 => 'bind_transmitter_resp',
  0x00000009 => 'bind_transceiver_resp',
);
my @submit_fields = qw(service_type source_addr_ton source_addr_npi source_addr dest_addr_ton dest_addr_npi destination_addr
  esm_class protocol_id priority_flag schedule_delivery_time validity_period registered_delivery data_coding);

sub on_pdu {
  my ($c, $pdu) = @_;
  my $n = $conn_of{$c};
  my $name = Net::SMPP::pdu_tab->{$pdu->{cmd}} ? Net::SMPP::pdu_tab->{$pdu->{cmd}}{cmd} : sprintf('0x%08X', $pdu->{cmd});
  my %ev = (event => $name, conn => $n, seq => $pdu->{seq}, status => $pdu->{status});
  if (my $resp = $bind_resp{$pdu->{cmd}}) {
    $ev{$_} = $pdu->{$_} for qw(system_id password system_type interface_version addr_ton addr_npi address_range);
    my $ok = $pdu->{system_id} eq $system_id && $pdu->{password} eq $password;
    $ev{accepted} = $ok ? JSON::PP::true : JSON::PP::false;
    emit(%ev);
    # sc_interface_version: we speak 3.4 whatever the ESME announced.
    $c->$resp(seq => $pdu->{seq}, status => $ok ? 0 : 0x0E, sc_interface_version => pack('C', 0x34));
    return;
  }
  if ($name eq 'submit_sm') {
    $ev{$_} = $pdu->{$_} for @submit_fields;
    $ev{short_message_hex} = unpack('H*', $pdu->{short_message} // '');
    $ev{message_payload_hex} = unpack('H*', $pdu->{message_payload}) if defined $pdu->{message_payload};
    $ev{message_id} = new_message_id();
    emit(%ev);
    $c->submit_sm_resp(seq => $pdu->{seq}, message_id => $ev{message_id});
    return;
  }
  if ($name eq 'enquire_link') {
    emit(%ev);
    $c->enquire_link_resp(seq => $pdu->{seq});
    return;
  }
  if ($name eq 'unbind') {
    emit(%ev);
    $c->unbind_resp(seq => $pdu->{seq});
    close_conn($c);
    return;
  }
  if ($name eq 'deliver_sm_resp') {
    $ev{message_id} = $pdu->{message_id};
    emit(%ev);
    return;
  }
  emit(%ev);
  if ($name eq 'unbind_resp') {
    close_conn($c);    # our unbind is complete
  } elsif (!($pdu->{cmd} & 0x80000000)) {
    $c->generic_nack(seq => $pdu->{seq}, status => 0x03);    # ESME_RINVCMDID: a request this SMSC does not serve
  }
}

sub on_command {
  my ($cmd) = @_;
  my $op = $cmd->{op} // '';
  if ($op eq 'ids') {
    $id_format = $cmd->{format};
    emit(event => 'ok', ref => $cmd->{ref});
    return;
  }
  my $c = $sock_of{$cmd->{conn} // -1};
  unless ($c) {
    emit(event => 'error', ref => $cmd->{ref}, message => "no connection $cmd->{conn}");
    return;
  }
  my $seq;
  if ($op eq 'deliver_sm') {
    my %f = %{$cmd->{fields} // {}};
    $f{short_message} = pack('H*', delete $f{short_message_hex}) if defined $f{short_message_hex};
    my @tlvs;
    my $t = $cmd->{tlvs} // {};
    # SMPP 3.4: receipted_message_id is a C-Octet String (NUL included), message_state one octet.
    push @tlvs, receipted_message_id => $t->{receipted_message_id} . ($t->{no_nul} ? '' : "\0") if defined $t->{receipted_message_id};
    push @tlvs, message_state => pack('C', $t->{message_state}) if defined $t->{message_state};
    $seq = $c->deliver_sm(async => 1, %f, @tlvs);
  } elsif ($op eq 'enquire_link') {
    $seq = $c->enquire_link(async => 1);
  } elsif ($op eq 'unbind') {
    $seq = $c->unbind(async => 1);
  } else {
    emit(event => 'error', ref => $cmd->{ref}, message => "unknown op $op");
    return;
  }
  emit(event => 'sent', ref => $cmd->{ref}, op => $op, conn => $cmd->{conn}, seq => $seq);
}

my $stdin_buf = '';
while (1) {
  for my $fh ($select->can_read) {
    if ($fh == $listener) {
      my $c = $listener->accept or next;
      $conn_of{$c} = ++$next_conn;
      $sock_of{$next_conn} = $c;
      $select->add($c);
      emit(event => 'connected', conn => $next_conn);
    } elsif ($fh == \*STDIN) {
      my $got = sysread(STDIN, $stdin_buf, 65536, length $stdin_buf);
      exit 0 unless $got;    # the test went away
      while ($stdin_buf =~ s/^([^\n]*)\n//) {
        next unless length $1;
        on_command($json->decode($1));
      }
    } else {
      my $pdu = $fh->read_pdu;
      if ($pdu) { on_pdu($fh, $pdu) } else { close_conn($fh) }
    }
  }
}
