/**
 * A carrier mix: what a real network does to a share of the messages it
 * accepts, e.g. `undeliv=0.10,silent=0.05,delay=1-3s`. Per submitted message
 * (each submit_sm, so each segment), with these probabilities, the SMSC
 * answers an UNDELIV receipt, or stays silent (no receipt, the handset never
 * gets it), and otherwise delivers. Delivery and receipts come after a delay
 * drawn uniformly in the range. Draws are a hash of the seed, the destination
 * and how many submits it had before, so a run repeats whatever order the
 * submits arrive in.
 */
import { createHash } from 'node:crypto';

/** The behaviours (sim/behaviours.ts) a mix draws from. */
export type CarrierOutcome = 'deliver' | 'undeliverable' | 'silent';
export const CARRIER_OUTCOMES: readonly CarrierOutcome[] = ['deliver', 'undeliverable', 'silent'];

export interface CarrierMix {
  /** Share of messages answered with an UNDELIV receipt (never on the handset). */
  undeliv: number;
  /** Share accepted and then neither delivered nor receipted. */
  silent: number;
  /** When the handset gets a delivered message and when its receipt (DELIVRD or UNDELIV) leaves, ms after the submit; null: the simulator's receiptDelayMs. */
  delayMs: { min: number; max: number } | null;
  seed: number;
}

/** What the mix decided for one message. */
export interface CarrierDraw {
  behaviour: CarrierOutcome;
  /** Null: the simulator's receiptDelayMs. */
  delayMs: number | null;
}

export const CARRIER_MIX_EXAMPLE = 'undeliv=0.10,silent=0.05,delay=1-3s';
/** The seed of a mix that names none: runs repeat unless asked otherwise. */
export const DEFAULT_CARRIER_MIX_SEED = 1;
/** Longest delay a mix may ask for. */
const MAX_DELAY_MS = 3_600_000;

const PARTS = ['undeliv', 'silent', 'delay', 'seed'] as const;
type Part = (typeof PARTS)[number];

/** Parses `undeliv=P,silent=P,delay=A-Bs|A-Bms|As,seed=N` (any order, each at most once; all optional). */
export function parseCarrierMix(spec: string): CarrierMix {
  const fail = (msg: string): never => {
    throw new Error(`carrier mix "${spec}": ${msg} (e.g. ${CARRIER_MIX_EXAMPLE})`);
  };
  const seen = new Set<Part>();
  const mix: CarrierMix = { undeliv: 0, silent: 0, delayMs: null, seed: DEFAULT_CARRIER_MIX_SEED };
  const trimmed = spec.trim();
  if (!trimmed) fail('empty');
  for (const raw of trimmed.split(',')) {
    const part = raw.trim();
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).trim();
    const value = eq < 0 ? '' : part.slice(eq + 1).trim();
    if (!(PARTS as readonly string[]).includes(key)) fail(`unknown part "${part}": expected ${PARTS.map((p) => `${p}=`).join(', ')}`);
    const name = key as Part;
    if (seen.has(name)) fail(`"${name}" is given twice`);
    seen.add(name);
    if (!value) fail(`"${part}" has no value`);
    if (name === 'undeliv' || name === 'silent') {
      const p = Number(value);
      if (!/^\d*\.?\d+$/.test(value) || !(p >= 0 && p <= 1)) fail(`"${part}": a probability from 0 to 1`);
      mix[name] = p;
    } else if (name === 'seed') {
      if (!/^\d{1,15}$/.test(value)) fail(`"${part}": the seed is an integer >= 0`);
      mix.seed = Number(value);
    } else {
      const m = /^(\d*\.?\d+)(?:-(\d*\.?\d+))?(ms|s)$/.exec(value);
      if (!m) fail(`"${part}": a delay is a duration or a range with a unit, e.g. 2s, 1-3s, 500-1500ms`);
      const unit = m![3] === 's' ? 1000 : 1;
      const min = Math.round(Number(m![1]) * unit);
      const max = Math.round(Number(m![2] ?? m![1]) * unit);
      if (max < min) fail(`"${part}": the range goes from low to high`);
      if (max > MAX_DELAY_MS) fail(`"${part}": at most ${MAX_DELAY_MS / 1000} s`);
      mix.delayMs = { min, max };
    }
  }
  if (mix.undeliv + mix.silent > 1 + 1e-9) fail(`undeliv + silent is ${+(mix.undeliv + mix.silent).toFixed(6)}, more than 1`);
  return mix;
}

/** The mix written back as `parseCarrierMix` reads it. */
export function formatCarrierMix(mix: CarrierMix): string {
  const delay = mix.delayMs ? `,delay=${mix.delayMs.min === mix.delayMs.max ? mix.delayMs.min : `${mix.delayMs.min}-${mix.delayMs.max}`}ms` : '';
  return `undeliv=${mix.undeliv},silent=${mix.silent}${delay},seed=${mix.seed}`;
}

/** The outcome of one message; `key` names it (the simulator uses destination and submit count). Same mix and key, same draw. */
export function drawCarrierOutcome(mix: CarrierMix, key: string): CarrierDraw {
  const digest = createHash('sha256').update(`${mix.seed}|${key}`).digest();
  const u1 = digest.readUIntBE(0, 6) / 2 ** 48;
  const u2 = digest.readUIntBE(6, 6) / 2 ** 48;
  const behaviour: CarrierOutcome = u1 < mix.undeliv ? 'undeliverable' : u1 < mix.undeliv + mix.silent ? 'silent' : 'deliver';
  const delayMs = mix.delayMs ? Math.round(mix.delayMs.min + u2 * (mix.delayMs.max - mix.delayMs.min)) : null;
  return { behaviour, delayMs };
}
