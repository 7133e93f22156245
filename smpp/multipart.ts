/**
 * Concatenation references and the parts of a long message already accepted.
 *
 * References roll per destination, so consecutive long messages to one
 * handset never share one (a random 8-bit reference collided 1 time in 256).
 * A message sent again under the same key (a retry of a failed send, a
 * staggered retry) keeps its reference, so a handset holding some of its
 * parts reassembles it once. A retry of a send that failed part-way sends
 * only the parts the SMSC has not accepted: those already accepted are at
 * the handset, and sending them again would be a duplicate.
 */
import { randomInt } from 'node:crypto';
import { concatUdh } from './encoding';

/** 8-bit (UDH 00 03) or 16-bit (UDH 08 04) references. */
export type ConcatRefBits = 8 | 16;

/** UDH for one segment: 05 00 03 ref total seq, or 06 08 04 refHi refLo total seq. */
export function concatHeader(bits: ConcatRefBits, ref: number, total: number, seq: number): Buffer {
  if (bits === 16) return Buffer.from([0x06, 0x08, 0x04, (ref >> 8) & 0xff, ref & 0xff, total, seq]);
  return concatUdh(ref, total, seq);
}

interface MessageEntry {
  ref: number;
  bits: ConcatRefBits;
  /** The route whose SMSC accepted `parts`: their receipts come back there. */
  route: string;
  total: number;
  /** Message id per accepted part (index = segment - 1); cleared once the message went out whole. */
  parts: (string | undefined)[];
}

/** What a send of one long message starts from. */
export interface MultipartPlan {
  ref: number;
  /** Ids of parts already accepted by an earlier, failed send of this message (not to be sent again). */
  accepted: (string | undefined)[];
  /** Parts accepted before but sent again now (another route or reference width): possible duplicates. */
  resent: number;
}

export class ConcatLedger {
  private readonly nextRef = new Map<string, number>();
  private readonly messages = new Map<string, MessageEntry>();

  /** @param maxEntries destinations and messages remembered, each; the oldest are forgotten. */
  constructor(private readonly maxEntries = 50_000) {}

  /** The reference and accepted parts for one long message; `key` names the message across retries. */
  begin(destination: string, key: string | undefined, total: number, bits: ConcatRefBits, route: string): MultipartPlan {
    const known = key === undefined ? undefined : this.messages.get(key);
    if (known && known.total === total) {
      // Parts accepted on another route are not reused: the session links ids per route, and their receipts come back there.
      const reuse = known.bits === bits && known.route === route;
      const accepted = reuse ? [...known.parts] : [];
      const resent = reuse ? 0 : known.parts.filter(Boolean).length;
      if (!reuse) known.parts = [];
      known.bits = bits;
      known.route = route;
      this.touch(this.messages, key!, known);
      return { ref: known.ref, accepted, resent };
    }
    const ref = this.allocate(destination);
    if (key !== undefined) this.touch(this.messages, key, { ref, bits, route, total, parts: [] });
    return { ref, accepted: [], resent: 0 };
  }

  /** One part accepted by the SMSC. */
  accepted(key: string | undefined, seq: number, messageId: string): void {
    const m = key === undefined ? undefined : this.messages.get(key);
    if (m) m.parts[seq - 1] = messageId;
  }

  /** Every part went out: a later send of this message (a staggered retry) sends them all again, under the same reference. */
  complete(key: string | undefined): void {
    const m = key === undefined ? undefined : this.messages.get(key);
    if (m) m.parts = [];
  }

  private allocate(destination: string): number {
    // A random start per destination: another worker (or this one after a restart) is unlikely to be at the same place.
    const ref = this.nextRef.get(destination) ?? randomInt(0, 0x10000);
    this.touch(this.nextRef, destination, (ref + 1) % 0x10000);
    return ref;
  }

  private touch<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    map.set(key, value);
    if (map.size > this.maxEntries) map.delete(map.keys().next().value as string);
  }
}
