/**
 * What the delivery-outcome bench reads from the simulator, a child process:
 * every submit_sm with what the carrier mix did with it, every SMS a handset
 * received, every email the mailbox accepted (GET /submits, /inbox, /mails,
 * followed with ?after=<seq>). Times are the host's monotonic clock (`mono`),
 * which this process shares.
 */
import type { Behaviour } from '../sim/behaviours';
import { BEHAVIOURS } from '../sim/behaviours';

export interface SubmitSeen {
  to: string;
  mono: number;
  status: number;
  /** What the network did with an accepted message (the carrier mix's draw). */
  behaviour?: Behaviour;
  /** Segment number of a long message; undefined for a single one. */
  segment?: number;
}

/** A code on a channel: an SMS on the handset or an email in the mailbox. */
export interface Arrival {
  /** The phone number (SMS) or the email address (email). */
  to: string;
  text: string;
  mono: number;
}

type Feed = 'submits' | 'inbox' | 'mails';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isBehaviour = (v: unknown): v is Behaviour => typeof v === 'string' && (BEHAVIOURS as readonly string[]).includes(v);

function asSubmit(v: Record<string, unknown>): SubmitSeen | null {
  if (typeof v.to !== 'string' || typeof v.mono !== 'number' || typeof v.status !== 'number') return null;
  const concat = isRecord(v.concat) && typeof v.concat.seq === 'number' ? v.concat.seq : undefined;
  return { to: v.to, mono: v.mono, status: v.status, behaviour: isBehaviour(v.behaviour) ? v.behaviour : undefined, segment: concat };
}

function asArrivals(v: Record<string, unknown>): Arrival[] {
  if (typeof v.text !== 'string' || typeof v.mono !== 'number') return [];
  const text = v.text;
  const mono = v.mono;
  // An SMS names one handset; an email may name several recipients.
  const to = typeof v.to === 'string' ? [v.to] : Array.isArray(v.to) ? v.to.filter((x): x is string => typeof x === 'string') : [];
  return to.map((t) => ({ to: t.toLowerCase(), text, mono }));
}

export class OutcomeFeeds {
  readonly submitsByPhone = new Map<string, SubmitSeen[]>();
  /** Called for each SMS on a handset and each email, in arrival order per feed. */
  onSms?: (a: Arrival) => void;
  onMail?: (a: Arrival) => void;
  /** Records the simulator dropped before they were read (its records are bounded). */
  gaps = 0;
  private readonly cursors: Record<Feed, number> = { submits: 0, inbox: 0, mails: 0 };

  constructor(private readonly baseUrl: string) {}

  /** Reads everything new on the three feeds. */
  async poll(): Promise<void> {
    await Promise.all([
      this.read('submits', (v) => {
        const s = asSubmit(v);
        if (!s) return;
        const list = this.submitsByPhone.get(s.to);
        if (list) list.push(s);
        else this.submitsByPhone.set(s.to, [s]);
      }),
      this.read('inbox', (v) => asArrivals(v).forEach((a) => this.onSms?.(a))),
      this.read('mails', (v) => asArrivals(v).forEach((a) => this.onMail?.(a))),
    ]);
  }

  private async read(feed: Feed, add: (item: Record<string, unknown>) => void): Promise<void> {
    for (;;) {
      const res = await fetch(`${this.baseUrl}/${feed}?after=${this.cursors[feed]}&limit=5000`);
      if (!res.ok) throw new Error(`GET /${feed}: HTTP ${res.status}`);
      const body: unknown = await res.json();
      if (!Array.isArray(body)) throw new Error(`GET /${feed}: not a JSON array`);
      for (const item of body) {
        if (!isRecord(item) || typeof item.seq !== 'number' || item.seq <= this.cursors[feed]) continue;
        this.gaps += item.seq - this.cursors[feed] - 1;
        this.cursors[feed] = item.seq;
        add(item);
      }
      if (body.length < 5000) return;
    }
  }
}
