/**
 * Where profiles come from: the built-in presets (login, transaction,
 * recovery), overridden or extended by JSON from OTP_PROFILES (inline) or
 * OTP_PROFILES_FILE. Each profile's revision is a hash of its content, so a
 * send records exactly which rules it used.
 *
 *   {"shop-login": {"extends": "login", "brand": "Shop", "ttlSeconds": 120},
 *    "login": {"velocity": {"perCountryPerHour": 500, "shadow": true}}}
 */
import { NAME_PATTERN, NAME_RULE } from '../contract';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DEFAULT_ESCALATE_ON_STATS, PRESETS, PolicyError, validateProfile, type OtpProfile, type ResolvedProfile } from './profile';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** Fields added after profiles were first revisioned, with their defaults: hashed only when not the default, so unchanged profiles keep their revision. */
const HASHED_WHEN_SET: Partial<Record<keyof OtpProfile, unknown>> = {
  deliveryWebhookUrl: null,
  respectOptOut: true,
  escalateOnStats: DEFAULT_ESCALATE_ON_STATS,
  chain: null,
  voiceWebhookUrl: null,
  emailFrom: null,
  emailSubject: null,
  emailHtmlTemplates: null,
};

/** The sender and brand a profile sends with when it names none (OTP_SENDER_ID, OTP_BRAND). */
export interface SenderDefaults {
  senderId: string;
  brand: string;
}

/**
 * Revision identity for sender approval: sha256 (hex) of the canonical JSON of the profile's
 * effective content, with the sender and brand resolved as sends resolve them, so a new
 * OTP_SENDER_ID behind a profile that names none needs a new approval too.
 */
export function profileContentHash(p: OtpProfile, defaults: SenderDefaults): string {
  return createHash('sha256')
    .update(canonical(effectiveContent(p, defaults)))
    .digest('hex');
}

function effectiveContent(p: OtpProfile, defaults: SenderDefaults): OtpProfile {
  // Only the OtpProfile fields: a ResolvedProfile's name and short revision are not content.
  const { name: _name, revision: _revision, ...content } = p as Partial<ResolvedProfile> & OtpProfile;
  return { ...content, senderId: p.senderId ?? defaults.senderId, brand: p.brand ?? defaults.brand };
}

export function profileRevision(p: OtpProfile): string {
  const hashed: Partial<OtpProfile> = { ...p };
  for (const [f, unset] of Object.entries(HASHED_WHEN_SET))
    if (canonical(hashed[f as keyof OtpProfile]) === canonical(unset)) delete hashed[f as keyof OtpProfile];
  return createHash('sha256').update(canonical(hashed)).digest('hex').slice(0, 12);
}

const NESTED = new Set(['velocity', 'autofill', 'sandbox', 'templates']);

function merge(base: OtpProfile, patch: Record<string, Json>, name: string): OtpProfile {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (k === 'extends') continue;
    if (!(k in base)) throw new PolicyError(`profile "${name}": unknown field "${k}"`);
    if (NESTED.has(k)) {
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new PolicyError(`profile "${name}": ${k} must be an object`);
      out[k] = { ...(base[k as keyof OtpProfile] as object), ...v };
    } else out[k] = v;
  }
  return out as unknown as OtpProfile;
}

export class ProfileStore {
  private readonly profiles = new Map<string, ResolvedProfile>();

  constructor(overrides: Record<string, Record<string, Json>> = {}) {
    const raw = new Map<string, OtpProfile>(Object.entries(PRESETS));
    const pending = new Map(Object.entries(overrides));
    // Resolve "extends" in dependency order; a cycle or a missing parent is an error.
    let progressed = true;
    while (pending.size && progressed) {
      progressed = false;
      for (const [name, patch] of pending) {
        if (!NAME_PATTERN.test(name)) throw new PolicyError(`profile name "${name.slice(0, 70)}" must be ${NAME_RULE}`);
        const parentName = typeof patch.extends === 'string' ? patch.extends : raw.has(name) ? name : 'login';
        if (parentName !== name && pending.has(parentName)) continue;
        const parent = raw.get(parentName);
        if (!parent) throw new PolicyError(`profile "${name}" extends unknown profile "${parentName}"`);
        raw.set(name, merge(parent, patch, name));
        pending.delete(name);
        progressed = true;
      }
    }
    if (pending.size) throw new PolicyError(`profiles ${[...pending.keys()].join(', ')} extend each other in a cycle`);
    for (const [name, p] of raw) {
      validateProfile(name, p);
      this.profiles.set(name, { ...p, name, revision: profileRevision(p) });
    }
  }

  static fromEnv(env: Record<string, string | undefined>): ProfileStore {
    let text: string | undefined = env.OTP_PROFILES;
    let source = 'OTP_PROFILES';
    if (!text && env.OTP_PROFILES_FILE) {
      source = `OTP_PROFILES_FILE (${env.OTP_PROFILES_FILE})`;
      try {
        text = readFileSync(env.OTP_PROFILES_FILE, 'utf8');
      } catch (err) {
        throw new PolicyError(`${source}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
    }
    if (!text) return new ProfileStore();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new PolicyError(`${source} is not valid JSON: ${(err as Error).message}`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new PolicyError(`${source} must be a JSON object of profiles`);
    return new ProfileStore(parsed as Record<string, Record<string, Json>>);
  }

  get(name: string): ResolvedProfile | undefined {
    return this.profiles.get(name);
  }

  names(): string[] {
    return [...this.profiles.keys()];
  }
}
