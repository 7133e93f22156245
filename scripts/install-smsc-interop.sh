#!/usr/bin/env bash
# Installs the independent SMSC used by test/interop-smsc.test.ts: Debian's
# Net::SMPP (package libnet-smpp-perl, pure Perl, depends on perl only).
# Idempotent: does nothing when Perl already finds Net::SMPP. Otherwise it
# installs the package with apt-get when run as root, or else unpacks the
# .deb (apt-get download, no root needed) into .tools/net-smpp, which the
# test puts on PERL5LIB. Either way the .deb stays in a cache for next time.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="$ROOT/.tools/net-smpp"
PKG=libnet-smpp-perl

have() { PERL5LIB="$LOCAL/usr/share/perl5${PERL5LIB:+:$PERL5LIB}" perl -MNet::SMPP -MJSON::PP -MIO::Select -e 1 2>/dev/null; }

command -v perl >/dev/null || { echo "install-smsc-interop: perl is missing (apt-get install perl)" >&2; exit 1; }
if have; then
  echo "Net::SMPP present: $(PERL5LIB="$LOCAL/usr/share/perl5" perl -MNet::SMPP -e 'print $INC{"Net/SMPP.pm"}, " ", $Net::SMPP::VERSION')"
  exit 0
fi

# A stale package list is the usual reason apt cannot find the package: refresh once and retry.
apt_retry() { "$@" || { apt-get update -qq && "$@"; }; }

if [[ "$(id -u)" == 0 ]]; then
  DEBIAN_FRONTEND=noninteractive apt_retry apt-get install -y -qq --no-install-recommends "$PKG" >/dev/null
else
  mkdir -p "$LOCAL/cache"
  (cd "$LOCAL/cache" && ls ${PKG}_*.deb >/dev/null 2>&1 || apt_retry apt-get download "$PKG")
  dpkg-deb -x "$(ls "$LOCAL"/cache/${PKG}_*.deb | tail -1)" "$LOCAL"
fi
have || { echo "install-smsc-interop: Net::SMPP still not found after installing $PKG" >&2; exit 1; }
echo "Net::SMPP installed: $(PERL5LIB="$LOCAL/usr/share/perl5" perl -MNet::SMPP -e 'print $INC{"Net/SMPP.pm"}, " ", $Net::SMPP::VERSION')"
