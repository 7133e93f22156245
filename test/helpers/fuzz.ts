/**
 * Bounded fast-check settings for the fuzz-*.test.ts files: a fixed number of
 * runs and a fixed seed per property, so CI is reproducible and fast. FC_SEED
 * overrides every seed (to explore, or to replay a seed a failure printed).
 */
import type { Parameters } from 'fast-check';

function seedFromEnv(): number | undefined {
  const raw = process.env.FC_SEED;
  if (raw === undefined || raw.trim() === '') return undefined;
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed)) throw new Error(`FC_SEED must be an integer, got "${raw}"`);
  return seed;
}

/** fast-check parameters: `numRuns` runs from `seed`, unless FC_SEED is set. */
export function fuzz<T>(numRuns: number, seed: number): Parameters<T> {
  return { numRuns, seed: seedFromEnv() ?? seed };
}
