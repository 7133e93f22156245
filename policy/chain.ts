/**
 * The channel chain of a profile: the steps a code takes until it is verified
 * (SMS, then email, a voice call, a webhook…), and what moves it from one step
 * to the next. Pure (workflow code imports it).
 *
 *   "chain": [
 *     {"channel": "sms", "attempts": 2, "deadlineSeconds": 20},
 *     {"channel": "voice", "deadlineSeconds": 45, "untilVerified": true},
 *     {"channel": "email"}
 *   ]
 *
 * A profile without a chain gets one from its older fields: SMS with its
 * staggered retries, then `fallbackChannels` every `escalateAfterSeconds`.
 */
import type { ChainChannel, FallbackChannel } from '../contract';
import { PLACEHOLDER_LIST, unknownPlaceholders } from './placeholders';

/** Where a step sends the code. SMS is the send itself, so only the first step. "voice": a webhook POST with text written for speech. */
export const CHAIN_CHANNELS: readonly ChainChannel[] = ['sms', 'email', 'webhook', 'voice'];

export interface ChainStep {
  channel: ChainChannel;
  /**
   * Sends this step may make: for SMS the first submit plus staggered retries (at the profile's
   * retrySchedule, so at most 1 + its length); for the others, tries of the SMTP hand-off or POST.
   * @default 1 (SMS: 1 + retrySchedule.length)
   */
  attempts: number;
  /**
   * The next step starts this many seconds after this one started, unless the SMS was delivered by
   * then (a DELIVRD receipt) or the code verified; with `untilVerified`, unless the code was verified.
   * An email or POST taken is no proof the user has the code, so it does not stop the chain.
   * @default escalateAfterSeconds
   */
  deadlineSeconds: number;
  /** Move on at the deadline unless the code was verified, even when the SMS was delivered. @default false */
  untilVerified: boolean;
  /** SMS receipt states that move on at once, without staggered retries. @default ['UNDELIV', 'REJECTD'] (escalateOnStats) */
  moveOnStats: string[];
  /** Locale -> text for this step, with the template placeholders; null = the channel's default text. @default null */
  templates: Record<string, string> | null;
}

/** A step as a profile may write it: only `channel` is required. */
export type ChainStepInput = Pick<ChainStep, 'channel'> & Partial<Omit<ChainStep, 'channel'>>;

/** Longest chain: SMS and each other channel once. */
export const MAX_CHAIN_STEPS = CHAIN_CHANNELS.length;
export const DEADLINE_RANGE = [5, 86_400] as const;
export const ATTEMPTS_RANGE = [1, 6] as const;

/** What a chain is built from when a profile names none. */
export interface ChainDefaults {
  retrySchedule: number[];
  escalateAfterSeconds: number;
  escalateOnStats: string[];
  fallbackChannels: FallbackChannel[];
}

/** The chain a profile sends with: its own steps with defaults filled in, or the one its older fields describe. */
export function resolveChain(chain: ChainStepInput[] | null | undefined, d: ChainDefaults): ChainStep[] {
  const step = (s: ChainStepInput): ChainStep => ({
    channel: s.channel,
    attempts: s.attempts ?? (s.channel === 'sms' ? 1 + d.retrySchedule.length : 1),
    deadlineSeconds: s.deadlineSeconds ?? d.escalateAfterSeconds,
    untilVerified: s.untilVerified ?? false,
    moveOnStats: s.moveOnStats ?? [...d.escalateOnStats],
    templates: s.templates ?? null,
  });
  if (chain) return chain.map(step);
  const steps: ChainStepInput[] = [{ channel: 'sms' }, ...d.fallbackChannels.map((channel) => ({ channel }))];
  return steps.map(step);
}

/** Problems with a profile's chain, as messages naming the step and field (empty: fine). */
export function chainProblems(chain: unknown, receiptStats: readonly string[], retries: number): string[] {
  if (chain === null || chain === undefined) return [];
  if (!Array.isArray(chain) || chain.length === 0 || chain.length > MAX_CHAIN_STEPS)
    return [`chain must be null or a list of 1 to ${MAX_CHAIN_STEPS} steps (got ${JSON.stringify(chain)?.slice(0, 60)})`];
  const problems: string[] = [];
  const seen = new Set<string>();
  chain.forEach((raw: unknown, i) => {
    const at = `chain[${i}]`;
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
      problems.push(`${at} must be an object with a channel`);
      return;
    }
    const s = raw as Record<string, unknown>;
    const known = ['channel', 'attempts', 'deadlineSeconds', 'untilVerified', 'moveOnStats', 'templates'];
    for (const k of Object.keys(s)) if (!known.includes(k)) problems.push(`${at} has unknown field "${k.slice(0, 40)}" (known: ${known.join(', ')})`);
    if (typeof s.channel !== 'string' || !CHAIN_CHANNELS.includes(s.channel as ChainChannel))
      problems.push(`${at}.channel must be one of ${CHAIN_CHANNELS.join(', ')}`);
    else if ((s.channel === 'sms') !== (i === 0))
      problems.push(i === 0 ? 'chain must start with the sms step (the send itself)' : `${at}: sms can only be the first step`);
    else if (seen.has(s.channel)) problems.push(`${at}: channel ${s.channel} appears twice`);
    else seen.add(s.channel);
    const int = (field: string, [min, max]: readonly [number, number]) => {
      const v = s[field];
      if (v !== undefined && (!Number.isInteger(v) || (v as number) < min || (v as number) > max))
        problems.push(`${at}.${field} must be an integer from ${min} to ${max} (got ${JSON.stringify(v)})`);
    };
    int('attempts', s.channel === 'sms' ? [1, 1 + retries] : ATTEMPTS_RANGE);
    int('deadlineSeconds', DEADLINE_RANGE);
    if (s.untilVerified !== undefined && typeof s.untilVerified !== 'boolean') problems.push(`${at}.untilVerified must be true or false`);
    if (s.moveOnStats !== undefined && (!Array.isArray(s.moveOnStats) || s.moveOnStats.some((w) => typeof w !== 'string' || !receiptStats.includes(w))))
      problems.push(`${at}.moveOnStats must list receipt states among ${receiptStats.join(', ')}`);
    if (s.templates !== undefined && s.templates !== null) {
      if (typeof s.templates !== 'object' || Array.isArray(s.templates)) problems.push(`${at}.templates must be null or locale -> text`);
      else
        for (const [locale, t] of Object.entries(s.templates as Record<string, unknown>)) {
          if (typeof t !== 'string' || t.length === 0 || t.length > 2000) problems.push(`${at}.templates.${locale} must be a text of 1 to 2000 characters`);
          else if (!t.includes('{code}') && !t.includes('{spokenCode}')) problems.push(`${at}.templates.${locale} must contain {code} or {spokenCode}`);
          else if (!t.includes('{brand}')) problems.push(`${at}.templates.${locale} must contain {brand}: the brand is always named`);
          else if (unknownPlaceholders(t).length)
            problems.push(`${at}.templates.${locale} has unknown placeholder ${unknownPlaceholders(t)[0].slice(0, 40)} (known: ${PLACEHOLDER_LIST})`);
        }
    }
  });
  return problems;
}

/**
 * Default text of the voice step, per locale: the code spoken digit by digit, said twice, so a
 * text-to-speech engine reads "4, 7, 1" and not "four hundred seventy-one".
 */
export const VOICE_TEMPLATES: Record<string, string> = {
  en: 'This is {brand}. Your verification code is: {spokenCode}. Again, your code is: {spokenCode}.',
  fr: 'Ici {brand}. Votre code de vérification est : {spokenCode}. Je répète, votre code est : {spokenCode}.',
  ru: 'Это {brand}. Ваш код: {spokenCode}. Повторяю, ваш код: {spokenCode}.',
};

/** Where a code's later steps may go, decided at send time by the trust rules (inside encrypted payloads only). */
export interface FallbackDestinations {
  email?: string;
  webhookUrl?: string;
  /** The profile's voiceWebhookUrl: the provider that calls the number. */
  voiceUrl?: string;
}

/** The destination of a fallback step, or undefined when this send has none for that channel (the step is skipped). */
export function destinationOf(d: FallbackDestinations | undefined, channel: FallbackChannel): string | undefined {
  if (channel === 'email') return d?.email;
  if (channel === 'webhook') return d?.webhookUrl;
  return d?.voiceUrl;
}

/** Whether a step after the first has somewhere to go: a refused SMS then continues instead of failing the send. */
export function chainContinues(steps: readonly ChainStep[], d: FallbackDestinations | undefined): boolean {
  return steps.slice(1).some((s) => s.channel !== 'sms' && destinationOf(d, s.channel) !== undefined);
}
