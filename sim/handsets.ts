/**
 * The handsets behind the simulated network: what each one received (long
 * messages put back together from their segments), which accepted messages
 * never reached it, and the messages a handset sends (mobile-originated).
 */
import { FeedLog, MAX_RECORDS, bound } from './feeds';
import type { Behaviour } from './behaviours';

export interface InboxMessage {
  to: string;
  from: string;
  text: string;
  dataCoding: number;
  segments: number;
  messageIds: string[];
  receivedAt: string;
}

/** A message the SMSC accepted that the handset never got (undeliverable, silent, …). */
export interface WithheldMessage {
  to: string;
  messageId: string;
  /** The behaviour that kept it from the handset. */
  behaviour: Behaviour;
  /** When the SMSC accepted it, ms since the epoch. */
  at: number;
}

/** One accepted submit_sm on its way to a handset. */
export interface HandsetSegment {
  to: string;
  from: string;
  text: string;
  dataCoding: number;
  messageId: string;
  /** This segment's place in a long message (UDH). */
  concat?: { ref: number; total: number; seq: number };
  /** Segments the text took when it came whole (message_payload); 1 otherwise. */
  segments: number;
}

interface PendingConcat {
  parts: Map<number, string>;
  total: number;
  ids: string[];
}

/** A handset's message to a short code, as the SMSC hands it to a bound receiver. */
export interface MobileOriginated {
  /** The handset's number, with or without "+". */
  from: string;
  /** The short code. */
  to: string;
  text: string;
  pdu?: 'deliver_sm' | 'data_sm';
}

export class HandsetInbox {
  private readonly inbox = new Map<string, InboxMessage[]>();
  private inboxSize = 0;
  private readonly concat = new Map<string, PendingConcat>();
  private readonly withheldList: WithheldMessage[] = [];
  /** Every SMS handed to a handset, for GET /inbox. */
  readonly feed = new FeedLog<InboxMessage>();

  /** A segment reaches its handset; a long message shows once its last part is in. */
  receive(s: HandsetSegment): void {
    const receivedAt = () => new Date().toISOString();
    if (!s.concat) {
      this.deliver({
        to: s.to,
        from: s.from,
        text: s.text,
        dataCoding: s.dataCoding,
        segments: s.segments,
        messageIds: [s.messageId],
        receivedAt: receivedAt(),
      });
      return;
    }
    const key = `${s.to}|${s.from}|${s.concat.ref}`;
    const pending: PendingConcat = this.concat.get(key) ?? { parts: new Map<number, string>(), total: s.concat.total, ids: [] };
    pending.parts.set(s.concat.seq, s.text);
    pending.ids.push(s.messageId);
    this.concat.set(key, pending);
    if (pending.parts.size < pending.total) return;
    this.concat.delete(key);
    const text = [...pending.parts.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([, t]) => t)
      .join('');
    this.deliver({ to: s.to, from: s.from, text, dataCoding: s.dataCoding, segments: pending.total, messageIds: pending.ids, receivedAt: receivedAt() });
  }

  /** The network accepted a message that will never reach the handset. */
  withhold(m: WithheldMessage): void {
    this.withheldList.push(m);
    bound(this.withheldList);
  }

  /** What the handset received, oldest first. */
  messages(to: string): InboxMessage[] {
    return [...(this.inbox.get(to) ?? [])];
  }

  /** Accepted messages to this handset that it never got, oldest first. */
  withheld(to: string): WithheldMessage[] {
    return this.withheldList.filter((m) => m.to === to);
  }

  /** Long messages a handset holds only part of (segments waiting for the rest under their reference). */
  incompleteConcats(to: string): number {
    return [...this.concat.keys()].filter((k) => k.startsWith(`${to}|`)).length;
  }

  clear(): void {
    this.inbox.clear();
    this.inboxSize = 0;
    this.withheldList.length = 0;
    this.feed.clear();
  }

  private deliver(m: InboxMessage): void {
    const list = this.inbox.get(m.to) ?? [];
    list.push(m);
    this.inbox.set(m.to, list);
    this.feed.push(m);
    // Bounded: forget the handsets that received first (a Map iterates in insertion order).
    if (++this.inboxSize > MAX_RECORDS) {
      for (const [to, msgs] of this.inbox) {
        if (this.inboxSize <= MAX_RECORDS - MAX_RECORDS / 10) break;
        this.inbox.delete(to);
        this.inboxSize -= msgs.length;
      }
    }
  }
}

/** The PDU fields of a handset's message: from an international number (TON 1) to a short code (TON 3). */
export function mobileOriginatedFields(msg: MobileOriginated) {
  return {
    source_addr_ton: 1,
    source_addr_npi: 1,
    source_addr: msg.from.replace(/^\+/, ''),
    dest_addr_ton: 3,
    dest_addr_npi: 0,
    destination_addr: msg.to,
    esm_class: 0,
    data_coding: 0,
  };
}
