/**
 * Policy profiles: named, versioned data that decide everything about a send
 * and its verification. Pure (no Node built-ins): workflow code imports the
 * types and the validation. Loading and revision hashing are in ./store.ts.
 */

import { chainProblems, type ChainStepInput } from './chain';
import { DOMAIN_PATTERN, isEmailAddress } from './email';
import { SENDER_ID_RULE, senderKind } from '../contract/sender-id';
import { PLACEHOLDER_LIST, unknownPlaceholders } from './placeholders';
import { E164_PATTERN, MAX_CODE_LENGTH, MIN_CODE_LENGTH, type OtpCatalogProfile, type OtpPurpose, type SendChannel } from '../contract';

export type CodeAlphabet = 'numeric' | 'alphanumeric';
export type Purpose = OtpPurpose;

export interface VelocityPolicy {
  /** Sends allowed per destination country per hour, across the tenant. null = no limit. */
  perCountryPerHour: number | null;
  /** Sends allowed per number prefix per hour, across the tenant. null = no limit. */
  perPrefixPerHour: number | null;
  /** Digits of the E.164 number (after "+") that form a prefix. */
  prefixDigits: number;
  /** Report what would be blocked, block nothing. */
  shadow: boolean;
}

export interface SandboxPolicy {
  /** E.164 numbers that never get an SMS and always take `code`. */
  numbers: string[];
  /** The fixed code, in the profile's alphabet and length. */
  code: string;
}

export interface AutofillPolicy {
  /** iOS / WebOTP domain-bound code: appends "@<domain> #<code>" as the last line. */
  iosDomain: string | null;
  /** Android SMS Retriever: appends the 11-character app hash at the end. */
  androidAppHash: string | null;
}

export interface OtpProfile {
  purpose: Purpose;
  codeLength: number;
  alphabet: CodeAlphabet;
  ttlSeconds: number;
  /** Wrong codes one code takes before it locks. */
  maxAttempts: number;
  /** Wrong codes across every code and resend of a number, within failureWindowSeconds, that lock the whole session. */
  maxFailures: number;
  failureWindowSeconds: number;
  /** First session lock; each further lock within 24 h doubles it, up to 24 h. Sends are refused (`locked`) while it lasts. */
  lockoutSeconds: number;
  /** Wrong codes within any 24 h that lock the session for 24 h, however they are paced (NIST allows at most 100). */
  maxFailuresPerDay: number;
  resendCooldownSeconds: number;
  maxSendsPerWindow: number;
  sendWindowSeconds: number;
  previousCodeGraceSeconds: number;
  /** Staggered re-deliveries of the same code, in seconds after the first submit; delays past the code's expiry are skipped. */
  retrySchedule: number[];
  /** A submit with no final receipt after this long counts as not delivered. */
  receiptTimeoutSeconds: number;
  /** Sends per minute for the whole tenant; 0 = unlimited. */
  tenantSendsPerMinute: number;
  velocity: VelocityPolicy;
  /** ISO countries allowed; empty = all. */
  allowedCountries: string[];
  deniedCountries: string[];
  /** libphonenumber types refused, e.g. PREMIUM_RATE, SHARED_COST. */
  deniedNumberTypes: string[];
  /** Overrides OTP_SENDER_ID. */
  senderId: string | null;
  /** Overrides OTP_BRAND. */
  brand: string | null;
  /** Locale -> template with {code}, {brand}, {ttlMinutes}, {context}. Must hold defaultLocale. */
  templates: Record<string, string>;
  defaultLocale: string;
  /** A send must carry a context line (transactions). */
  requireContext: boolean;
  autofill: AutofillPolicy;
  /** Replace curly quotes, long dashes, non-breaking spaces… that silently force UCS-2. */
  normalizeLookalikes: boolean;
  /** Most segments a rendered message may take. */
  maxSegments: number;
  /** A send may carry its own code. */
  allowCallerCode: boolean;
  /** A send may name its own `brand`. Off by default: the brand is what tells a user the SMS is genuine. */
  allowCallerBrand: boolean;
  /** A send may carry its own message text with a {code} placeholder. Off by default: it makes any SMS text. */
  allowCallerMessage: boolean;
  /** A send may use channel "custom": the caller supplies the code and delivers it itself. Off by default: the caller knows the code. */
  allowCustomChannel: boolean;
  /** Channels after SMS, in order; each is used only when it has a destination (see below). */
  fallbackChannels: ('email' | 'webhook')[];
  /**
   * Take `email` and `webhookUrl` from the send request. Off by default: an anonymous caller
   * could otherwise name the victim's number and its own inbox. Turn on only for callers that
   * send contacts they have verified (a backend reading its user records).
   */
  callerContacts: boolean;
  /** A caller's `email` in one of these domains is accepted even without callerContacts (e.g. your staff domain). */
  fallbackEmailDomains: string[];
  /**
   * Refuse sends to a number that texted a STOP keyword (OTP_MO_STOP_KEYWORDS) as `blocked`, reason
   * `opted_out`, until it texts START. Whether transactional codes must respect STOP depends on the
   * market: turn it off only where the law and your carrier allow. @default true
   */
  respectOptOut: boolean;
  /** The operator's webhook-channel target; used when callerContacts is off. */
  fallbackWebhookUrl: string | null;
  /**
   * Where a send with channel "webhook" POSTs the code (signed, a WebhookDeliveryMessage).
   * Default null: channel "webhook" is refused. Set by the operator only; never taken from a send.
   */
  deliveryWebhookUrl: string | null;
  /** An SMS not delivered this long after the first submit escalates to the next fallback channel (and again after as long). */
  escalateAfterSeconds: number;
  /**
   * Receipt states (stat words) after which retrying the SMS rarely helps: when a fallback channel
   * is pending, such a receipt escalates at once and no staggered SMS retry follows. Without a
   * fallback the SMS is retried as before. A profile at the default keeps its sender-approval revision.
   * @default ['UNDELIV', 'REJECTD'] (DEFAULT_ESCALATE_ON_STATS)
   */
  escalateOnStats: string[];
  /**
   * The channels a code goes through, in order, and what moves it on (policy/chain.ts). null: SMS with
   * its staggered retries, then `fallbackChannels` every `escalateAfterSeconds`. @default null
   */
  chain: ChainStepInput[] | null;
  /**
   * Where a chain's voice step POSTs the code (signed, a WebhookChannelMessage with `speech`), to hand to a
   * text-to-speech or voice provider that calls the number. Set by the operator only. @default null
   */
  voiceWebhookUrl: string | null;
  /** From address of this profile's code emails; null = OTP_EMAIL_FROM. @default null */
  emailFrom: string | null;
  /** Subject of code emails, with {brand}; null = "{brand} verification code". @default null */
  emailSubject: string | null;
  /** Locale -> HTML body of code emails (values are HTML-escaped); null = text only. @default null */
  emailHtmlTemplates: Record<string, string> | null;
  sandbox: SandboxPolicy;
}

/** A profile as a send uses it: its name and the revision of its content. */
export interface ResolvedProfile extends OtpProfile {
  name: string;
  /** First 12 hex digits of SHA-256 over the profile's canonical JSON. */
  revision: string;
}

export const TEMPLATES_EN = {
  login: '{brand}: your verification code is {code}. It expires in {ttlMinutes} min. Never share it.',
  transaction: '{brand}: {context}. Your confirmation code is {code}. It expires in {ttlMinutes} min. Never share it.',
  recovery: '{brand}: your account recovery code is {code}. It expires in {ttlMinutes} min. If you did not ask for it, ignore this message.',
};

/** The final receipt states of SMPP 3.4 (a receipt's stat word). */
export const RECEIPT_STATS = ['DELIVRD', 'EXPIRED', 'DELETED', 'UNDELIV', 'ACCEPTD', 'UNKNOWN', 'REJECTD'];
/** Escalate at once, not retry the SMS: the handset is unreachable (UNDELIV) or the carrier refused it for good (REJECTD). */
export const DEFAULT_ESCALATE_ON_STATS = ['UNDELIV', 'REJECTD'];

const BASE: OtpProfile = {
  purpose: 'login',
  codeLength: 6,
  alphabet: 'numeric',
  ttlSeconds: 300,
  maxAttempts: 5,
  maxFailures: 10,
  failureWindowSeconds: 3600,
  lockoutSeconds: 900,
  maxFailuresPerDay: 50,
  resendCooldownSeconds: 30,
  maxSendsPerWindow: 3,
  sendWindowSeconds: 600,
  previousCodeGraceSeconds: 10,
  retrySchedule: [20, 60],
  receiptTimeoutSeconds: 15,
  tenantSendsPerMinute: 600,
  velocity: { perCountryPerHour: null, perPrefixPerHour: null, prefixDigits: 6, shadow: false },
  allowedCountries: [],
  deniedCountries: [],
  deniedNumberTypes: ['PREMIUM_RATE', 'SHARED_COST'],
  senderId: null,
  brand: null,
  templates: {
    en: TEMPLATES_EN.login,
    fr: '{brand} : votre code de vérification est {code}. Il expire dans {ttlMinutes} min. Ne le partagez jamais.',
    ru: '{brand}: код {code}. Действует {ttlMinutes} мин. Никому не сообщайте.',
  },
  defaultLocale: 'en',
  requireContext: false,
  autofill: { iosDomain: null, androidAppHash: null },
  normalizeLookalikes: true,
  maxSegments: 2,
  allowCallerCode: false,
  allowCallerBrand: false,
  allowCallerMessage: false,
  allowCustomChannel: false,
  fallbackChannels: ['email', 'webhook'],
  callerContacts: false,
  fallbackEmailDomains: [],
  respectOptOut: true,
  fallbackWebhookUrl: null,
  deliveryWebhookUrl: null,
  escalateAfterSeconds: 90,
  escalateOnStats: [...DEFAULT_ESCALATE_ON_STATS],
  chain: null,
  voiceWebhookUrl: null,
  emailFrom: null,
  emailSubject: null,
  emailHtmlTemplates: null,
  sandbox: { numbers: [], code: '000000' },
};

/** Presets by purpose, with defaults from the seeds (see the policy table in docs/policy-profiles.md). */
export const PRESETS: Record<'login' | 'transaction' | 'recovery', OtpProfile> = {
  login: BASE,
  transaction: {
    ...BASE,
    purpose: 'transaction',
    requireContext: true,
    templates: {
      en: TEMPLATES_EN.transaction,
      fr: '{brand} : {context}. Votre code de confirmation est {code}. Il expire dans {ttlMinutes} min. Ne le partagez jamais.',
    },
  },
  recovery: {
    ...BASE,
    purpose: 'recovery',
    codeLength: 8,
    ttlSeconds: 600,
    sandbox: { numbers: [], code: '00000000' },
    templates: {
      en: TEMPLATES_EN.recovery,
      fr: '{brand} : votre code de récupération de compte est {code}. Il expire dans {ttlMinutes} min. Si vous ne l’avez pas demandé, ignorez ce message.',
    },
  },
};

export const DEFAULT_PROFILE = 'login';

/** Alphanumeric codes leave out characters people confuse: 0/O, 1/I/L, 5/S, 2/Z, 8/B. */
export const ALPHABETS: Record<CodeAlphabet, string> = {
  numeric: '0123456789',
  alphanumeric: '34679ACDEFGHJKMNPQRTUVWXY',
};

/** Allowed ranges; the policy table in docs/policy-profiles.md is checked against this. */
export const LIMITS = {
  codeLength: [MIN_CODE_LENGTH, MAX_CODE_LENGTH],
  ttlSeconds: [10, 86_400],
  maxAttempts: [1, 20],
  maxFailures: [1, 100],
  failureWindowSeconds: [60, 86_400],
  lockoutSeconds: [60, 86_400],
  maxFailuresPerDay: [1, 100],
  resendCooldownSeconds: [0, 3_600],
  maxSendsPerWindow: [1, 100],
  sendWindowSeconds: [60, 86_400],
  previousCodeGraceSeconds: [0, 600],
  receiptTimeoutSeconds: [1, 3_600],
  escalateAfterSeconds: [10, 86_400],
  tenantSendsPerMinute: [0, 1_000_000],
  maxSegments: [1, 10],
  prefixDigits: [2, 12],
} as const;

const COUNTRY = /^[A-Z]{2}$/;
const NUMBER_TYPES = [
  'PREMIUM_RATE',
  'SHARED_COST',
  'TOLL_FREE',
  'VOIP',
  'PERSONAL_NUMBER',
  'PAGER',
  'UAN',
  'VOICEMAIL',
  'FIXED_LINE',
  'MOBILE',
  'FIXED_LINE_OR_MOBILE',
];

export class PolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyError';
  }
}

/** Throws a PolicyError naming the first field that is out of its allowed range. */
export function validateProfile(name: string, p: OtpProfile): void {
  const fail = (msg: string): never => {
    throw new PolicyError(`profile "${name}": ${msg}`);
  };
  const int = (field: keyof typeof LIMITS, v: number) => {
    const [min, max] = LIMITS[field];
    if (!Number.isInteger(v) || v < min || v > max) fail(`${field} must be an integer from ${min} to ${max} (got ${JSON.stringify(v)})`);
  };
  if (!['login', 'transaction', 'recovery', 'custom'].includes(p.purpose)) fail('purpose must be login, transaction, recovery or custom');
  int('codeLength', p.codeLength);
  if (!(p.alphabet in ALPHABETS)) fail('alphabet must be "numeric" or "alphanumeric"');
  int('ttlSeconds', p.ttlSeconds);
  int('maxAttempts', p.maxAttempts);
  int('maxFailures', p.maxFailures);
  int('failureWindowSeconds', p.failureWindowSeconds);
  int('lockoutSeconds', p.lockoutSeconds);
  int('maxFailuresPerDay', p.maxFailuresPerDay);
  if (p.maxFailuresPerDay < p.maxFailures) fail('maxFailuresPerDay must be at least maxFailures');
  if (p.maxFailures < p.maxAttempts) fail('maxFailures must be at least maxAttempts (the session locks no sooner than one code)');
  if (typeof p.callerContacts !== 'boolean') fail('callerContacts must be true or false');
  if (typeof p.respectOptOut !== 'boolean') fail('respectOptOut must be true or false');
  if (!Array.isArray(p.fallbackEmailDomains) || p.fallbackEmailDomains.some((d) => typeof d !== 'string' || !DOMAIN_PATTERN.test(d))) {
    fail('fallbackEmailDomains must list lower-case domains such as example.com');
  }
  for (const field of ['fallbackWebhookUrl', 'deliveryWebhookUrl', 'voiceWebhookUrl'] as const) {
    const url = p[field];
    if (url !== null && (typeof url !== 'string' || !/^https?:\/\/[^\s]+$/.test(url) || url.length > 2048)) fail(`${field} must be null or an http(s) URL`);
  }
  int('resendCooldownSeconds', p.resendCooldownSeconds);
  int('maxSendsPerWindow', p.maxSendsPerWindow);
  int('sendWindowSeconds', p.sendWindowSeconds);
  int('previousCodeGraceSeconds', p.previousCodeGraceSeconds);
  int('tenantSendsPerMinute', p.tenantSendsPerMinute);
  int('receiptTimeoutSeconds', p.receiptTimeoutSeconds);
  int('escalateAfterSeconds', p.escalateAfterSeconds);
  if (!Array.isArray(p.escalateOnStats) || p.escalateOnStats.some((w) => typeof w !== 'string' || !RECEIPT_STATS.includes(w))) {
    fail(`escalateOnStats must list receipt states among ${RECEIPT_STATS.join(', ')}`);
  }
  if (
    !Array.isArray(p.fallbackChannels) ||
    p.fallbackChannels.some((c) => c !== 'email' && c !== 'webhook') ||
    new Set(p.fallbackChannels).size !== p.fallbackChannels.length
  ) {
    fail('fallbackChannels must list "email" and/or "webhook", each at most once');
  }
  if (!Array.isArray(p.retrySchedule) || p.retrySchedule.length > 5) fail('retrySchedule must be a list of at most 5 delays in seconds');
  p.retrySchedule.forEach((d, i) => {
    if (!Number.isInteger(d) || d < 5 || d > 86_400) fail(`retrySchedule[${i}] must be an integer from 5 to 86400 seconds (got ${JSON.stringify(d)})`);
    if (i > 0 && d <= p.retrySchedule[i - 1]) fail('retrySchedule must be strictly increasing');
  });
  if (p.retrySchedule.length && p.receiptTimeoutSeconds > p.retrySchedule[0]) fail('receiptTimeoutSeconds must not exceed the first retrySchedule delay');
  const chainProblem = chainProblems(p.chain, RECEIPT_STATS, p.retrySchedule.length)[0];
  if (chainProblem) fail(chainProblem);
  if (p.chain?.some((s) => s.channel === 'voice') && p.voiceWebhookUrl === null) fail('a chain with a voice step needs voiceWebhookUrl');
  if (p.emailFrom !== null && (typeof p.emailFrom !== 'string' || !isEmailAddress(p.emailFrom, { local: true })))
    fail('emailFrom must be null or one email address');
  if (
    p.emailSubject !== null &&
    (typeof p.emailSubject !== 'string' || p.emailSubject.length < 1 || p.emailSubject.length > 200 || /[\r\n]/.test(p.emailSubject))
  )
    fail('emailSubject must be null or one line of 1 to 200 characters');
  if (p.emailSubject !== null && unknownPlaceholders(p.emailSubject).length) fail(`emailSubject has unknown placeholder (known: ${PLACEHOLDER_LIST})`);
  if (p.emailHtmlTemplates !== null) {
    if (typeof p.emailHtmlTemplates !== 'object' || Array.isArray(p.emailHtmlTemplates)) fail('emailHtmlTemplates must be null or locale -> HTML');
    for (const [locale, t] of Object.entries(p.emailHtmlTemplates)) {
      if (typeof t !== 'string' || !t.includes('{code}')) fail(`emailHtmlTemplates.${locale} must be HTML containing {code}`);
      if (unknownPlaceholders(t).length)
        fail(`emailHtmlTemplates.${locale} has unknown placeholder ${unknownPlaceholders(t)[0].slice(0, 40)} (known: ${PLACEHOLDER_LIST})`);
    }
  }
  int('maxSegments', p.maxSegments);
  int('prefixDigits', p.velocity.prefixDigits);
  for (const f of ['perCountryPerHour', 'perPrefixPerHour'] as const) {
    const v = p.velocity[f];
    if (v !== null && (!Number.isInteger(v) || v < 1)) fail(`velocity.${f} must be null or a positive integer`);
  }
  for (const c of [...p.allowedCountries, ...p.deniedCountries]) if (!COUNTRY.test(c)) fail(`country "${c}" must be a two-letter ISO code in capitals`);
  for (const t of p.deniedNumberTypes) if (!NUMBER_TYPES.includes(t)) fail(`deniedNumberTypes: unknown type "${t}" (one of ${NUMBER_TYPES.join(', ')})`);
  if (p.senderId !== null && !senderKind(p.senderId)) fail(`senderId must be ${SENDER_ID_RULE}`);
  if (p.brand !== null && (p.brand.length < 1 || p.brand.length > 40)) fail('brand must be 1–40 characters');
  if (!p.templates[p.defaultLocale]) fail(`templates must hold the defaultLocale "${p.defaultLocale}"`);
  for (const [locale, t] of Object.entries(p.templates)) {
    if (!t.includes('{code}')) fail(`template "${locale}" must contain {code}`);
    if (!t.includes('{brand}')) fail(`template "${locale}" must contain {brand}: the brand is always named`);
    const unknown = unknownPlaceholders(t);
    if (unknown.length) fail(`template "${locale}" has unknown placeholder ${unknown[0].slice(0, 40)} (known: ${PLACEHOLDER_LIST})`);
  }
  if (p.requireContext && !Object.values(p.templates).every((t) => t.includes('{context}'))) fail('requireContext needs {context} in every template');
  if (p.autofill.iosDomain !== null && !/^[a-z0-9.-]+\.[a-z]{2,}$/i.test(p.autofill.iosDomain)) fail('autofill.iosDomain must be a domain such as example.com');
  if (p.autofill.androidAppHash !== null && !/^[A-Za-z0-9+/]{11}$/.test(p.autofill.androidAppHash))
    fail('autofill.androidAppHash must be the 11-character SMS Retriever hash');
  if (p.autofill.iosDomain && p.autofill.androidAppHash) fail('autofill: choose iosDomain or androidAppHash per profile; both want the last line');
  for (const n of p.sandbox.numbers) if (!E164_PATTERN.test(n)) fail(`sandbox number "${n}" must be E.164`);
  if (!isInAlphabet(p.sandbox.code, p.alphabet) || p.sandbox.code.length !== p.codeLength) {
    if (p.sandbox.numbers.length) fail(`sandbox.code must be ${p.codeLength} characters of the ${p.alphabet} alphabet`);
  }
}

export function isInAlphabet(code: string, alphabet: CodeAlphabet): boolean {
  const chars = ALPHABETS[alphabet];
  return [...code].every((c) => chars.includes(c));
}

/** Profile fields the session workflow needs (nothing secret), copied into every send's history. */
const SESSION_RULE_FIELDS = [
  'purpose',
  'ttlSeconds',
  'maxAttempts',
  'maxFailures',
  'failureWindowSeconds',
  'lockoutSeconds',
  'maxFailuresPerDay',
  'resendCooldownSeconds',
  'maxSendsPerWindow',
  'sendWindowSeconds',
  'previousCodeGraceSeconds',
  'retrySchedule',
  'receiptTimeoutSeconds',
  'fallbackChannels',
  'escalateAfterSeconds',
  'escalateOnStats',
  'chain',
] as const satisfies readonly (keyof OtpProfile)[];

/** The parts of a resolved profile the session workflow needs, with the profile's name@revision (`chain` is absent in results recorded before v7). */
export type SessionRules = Pick<OtpProfile, (typeof SESSION_RULE_FIELDS)[number]> & { profile: string };

export function sessionRules(p: ResolvedProfile): SessionRules {
  const picked = Object.fromEntries(SESSION_RULE_FIELDS.map((f) => [f, p[f]])) as Pick<OtpProfile, (typeof SESSION_RULE_FIELDS)[number]>;
  return { profile: `${p.name}@${p.revision}`, ...picked };
}

/** A TTL as people read it: "45 s", "5 min", "2 h". */
function readableSeconds(s: number): string {
  if (s < 120) return `${s} s`;
  if (s < 7200 || s % 3600 !== 0) return `${Math.round(s / 60)} min`;
  return `${s / 3600} h`;
}

/** What callers may see of a profile (OtpCatalogProfile): no URLs, no sandbox numbers, nothing secret. */
export function catalogProfile(p: ResolvedProfile): OtpCatalogProfile {
  const channels: SendChannel[] = ['sms'];
  if (p.allowCustomChannel) channels.push('custom');
  if (p.deliveryWebhookUrl !== null) channels.push('webhook');
  const code = `${p.codeLength}-${p.alphabet === 'numeric' ? 'digit' : 'character'} code`;
  return {
    name: p.name,
    revision: `${p.name}@${p.revision}`,
    purpose: p.purpose,
    description: `${p.purpose}: ${code}, valid ${readableSeconds(p.ttlSeconds)}${p.requireContext ? ', needs a context line' : ''}`,
    locales: Object.keys(p.templates).filter((k) => Object.hasOwn(p.templates, k)),
    defaultLocale: p.defaultLocale,
    channels,
    allowCustomChannel: p.allowCustomChannel,
    hasDeliveryWebhook: p.deliveryWebhookUrl !== null,
    requireContext: p.requireContext,
    codeLength: p.codeLength,
    ttlSeconds: p.ttlSeconds,
  };
}
