/** The channel chain: the profile's rules (policy/chain.ts) and the session's decisions (workflows/session/chain.ts), without a server. */
import { issuedCode } from '../helpers/issued-code';
import { chainProblems, resolveChain, VOICE_TEMPLATES, type ChainStep } from '../../policy/chain';
import { spokenCode } from '../../policy/placeholders';
import { PRESETS, PolicyError, RECEIPT_STATS, validateProfile, type OtpProfile } from '../../policy/profile';
import { profileRevision } from '../../policy/store';
import { chainMoveAtMs, moveReason, nextStepAtMs, nextStepIndex, startStep, stepsView } from '../../workflows/session/chain';
import { retryable } from '../../workflows/session/delivery';
import type { IssuedCode } from '../../workflows/session/state';

const T = 1_800_000_000_000;
const LEGACY = {
  retrySchedule: [20, 60],
  escalateAfterSeconds: 90,
  escalateOnStats: ['UNDELIV', 'REJECTD'],
  fallbackChannels: ['email' as const, 'webhook' as const],
};

function code(steps: ChainStep[], over: Partial<IssuedCode> = {}): IssuedCode {
  return issuedCode(T, {
    maxAttempts: 3,
    retrySchedule: [20],
    fallback: { email: 'a@example.com', voiceUrl: 'https://voice.example.com/' },
    escalateOnStats: steps[0].moveOnStats,
    chain: { steps, at: 0, startedAtMs: T, outcomes: [{ channel: 'sms', startedAt: new Date(T).toISOString(), outcome: 'pending' }] },
    ...over,
  });
}

const chain = resolveChain(
  [
    { channel: 'sms', attempts: 2, deadlineSeconds: 20 },
    { channel: 'webhook' },
    { channel: 'voice', deadlineSeconds: 45, untilVerified: true },
    { channel: 'email' },
  ],
  LEGACY,
);

describe('the profile chain', () => {
  test('a profile without one gets SMS with its retries, then fallbackChannels every escalateAfterSeconds', () => {
    expect(resolveChain(null, LEGACY)).toEqual([
      { channel: 'sms', attempts: 3, deadlineSeconds: 90, untilVerified: false, moveOnStats: ['UNDELIV', 'REJECTD'], templates: null },
      { channel: 'email', attempts: 1, deadlineSeconds: 90, untilVerified: false, moveOnStats: ['UNDELIV', 'REJECTD'], templates: null },
      { channel: 'webhook', attempts: 1, deadlineSeconds: 90, untilVerified: false, moveOnStats: ['UNDELIV', 'REJECTD'], templates: null },
    ]);
  });

  test('steps a profile writes get the defaults they omit', () => {
    expect(chain[0]).toMatchObject({ attempts: 2, deadlineSeconds: 20, untilVerified: false });
    expect(chain[2]).toMatchObject({ attempts: 1, deadlineSeconds: 45, untilVerified: true });
    expect(chain[3].deadlineSeconds).toBe(90);
  });

  test.each([
    [[], 'chain must be null or a list of 1 to 4 steps'],
    [[{ channel: 'email' }], 'chain must start with the sms step'],
    [[{ channel: 'sms' }, { channel: 'sms' }], 'chain[1]: sms can only be the first step'],
    [[{ channel: 'sms' }, { channel: 'email' }, { channel: 'email' }], 'chain[2]: channel email appears twice'],
    [[{ channel: 'sms' }, { channel: 'fax' }], 'chain[1].channel must be one of sms, email, webhook, voice'],
    [[{ channel: 'sms', attempts: 4 }], 'chain[0].attempts must be an integer from 1 to 3 (got 4)'],
    [[{ channel: 'sms' }, { channel: 'email', attempts: 0 }], 'chain[1].attempts must be an integer from 1 to 6 (got 0)'],
    [[{ channel: 'sms', deadlineSeconds: 2 }], 'chain[0].deadlineSeconds must be an integer from 5 to 86400 (got 2)'],
    [[{ channel: 'sms', moveOnStats: ['NOPE'] }], 'chain[0].moveOnStats must list receipt states'],
    [[{ channel: 'sms', after: 3 }], 'chain[0] has unknown field "after"'],
    [[{ channel: 'sms' }, { channel: 'voice', templates: { en: 'say {brand}' } }], 'chain[1].templates.en must contain {code} or {spokenCode}'],
    [[{ channel: 'sms' }, { channel: 'voice', templates: { en: 'code {spokenCode}' } }], 'chain[1].templates.en must contain {brand}'],
    [[{ channel: 'sms' }, { channel: 'voice', templates: { en: '{brand} {spokenCode} {pin}' } }], 'chain[1].templates.en has unknown placeholder {pin}'],
  ])('refused: %j', (steps, message) => {
    expect(chainProblems(steps, RECEIPT_STATS, 2)[0]).toContain(message);
  });

  test('validateProfile: a voice step needs the operator voiceWebhookUrl; email settings are checked', () => {
    const p = (over: Partial<OtpProfile>): OtpProfile => ({ ...PRESETS.login, ...over });
    expect(() => validateProfile('x', p({ chain: [{ channel: 'sms' }, { channel: 'voice' }] }))).toThrow('a chain with a voice step needs voiceWebhookUrl');
    expect(() => validateProfile('x', p({ chain: [{ channel: 'sms' }, { channel: 'voice' }], voiceWebhookUrl: 'https://v.example.com/' }))).not.toThrow();
    expect(() => validateProfile('x', p({ emailFrom: 'a, b@c.d' }))).toThrow(PolicyError);
    expect(() => validateProfile('x', p({ emailSubject: 'Code\r\nBcc: x@y.z' }))).toThrow('emailSubject must be null or one line');
    expect(() => validateProfile('x', p({ emailHtmlTemplates: { en: '<p>{brand}</p>' } }))).toThrow('emailHtmlTemplates.en must be HTML containing {code}');
  });

  test('a profile at the new defaults keeps its revision (sender approvals stay valid)', () => {
    const { chain: _c, voiceWebhookUrl: _v, emailFrom: _f, emailSubject: _s, emailHtmlTemplates: _h, ...older } = PRESETS.login;
    expect(profileRevision(PRESETS.login)).toBe(profileRevision(older as OtpProfile));
    expect(profileRevision({ ...PRESETS.login, chain: [{ channel: 'sms' }] })).not.toBe(profileRevision(PRESETS.login));
  });

  test('the voice text says the code digit by digit, twice, in each locale', () => {
    expect(spokenCode('470192')).toBe('4, 7, 0, 1, 9, 2');
    for (const t of Object.values(VOICE_TEMPLATES)) {
      expect(t.split('{spokenCode}')).toHaveLength(3);
      expect(t).toContain('{brand}');
    }
  });
});

describe('the session chain', () => {
  test('an UNDELIV receipt moves on at once, skipping a step with no destination (no webhook URL here)', () => {
    const c = code(chain, { delivery: 'failed', attempts: [{ atMs: T, route: 'smsc', parts: { m1: 'failed' }, stat: 'UNDELIV' }], deliveryStat: 'UNDELIV' });
    expect(chainMoveAtMs(c, T + 1000)).toBe(T + 1000);
    expect(nextStepIndex(c)).toBe(2);
    expect(moveReason(c)).toBe('SMS UNDELIV');
    expect(retryable(c)).toBe(false);
  });

  test('no receipt: the next step at the deadline; a DELIVRD receipt: none', () => {
    expect(chainMoveAtMs(code(chain), T + 1000)).toBe(T + 20_000);
    expect(moveReason(code(chain))).toBe('no receipt within 20 s');
    const delivered = code(chain, { delivery: 'delivered' });
    expect(chainMoveAtMs(delivered, T + 1000)).toBeUndefined();
  });

  test('verified, cancelled or expired: nothing more starts, and a step under way shows stopped', () => {
    const verified = code(chain, { state: 'verified' });
    expect(chainMoveAtMs(verified, T + 1000)).toBeUndefined();
    expect(stepsView(verified, T + 1000)?.steps[0]).toMatchObject({ outcome: 'stopped', reason: 'verified' });
    expect(chainMoveAtMs(code(chain, { expiresAtMs: T + 10_000 }), T + 1000)).toBeUndefined(); // the deadline is after expiry
  });

  test('a started step: the SMS is not retried any more; untilVerified moves on at the deadline even when it was sent', () => {
    const c = code(chain, { delivery: 'failed', attempts: [{ atMs: T, route: 'smsc', parts: { m1: 'failed' }, stat: 'UNDELIV' }], deliveryStat: 'UNDELIV' });
    expect(startStep(c, 2, T + 1000)).toBe('voice');
    expect(c.chain!.outcomes[0]).toMatchObject({ outcome: 'failed', reason: 'SMS UNDELIV' });
    expect(retryable(c)).toBe(false);
    c.chain!.outcomes[1].outcome = 'sent'; // the voice step, the second started
    expect(nextStepAtMs(c, T + 2000)).toBe(T + 1000 + 45_000);
    expect(moveReason(c)).toBe('not verified within 45 s');
    expect(stepsView(c, T + 2000)).toMatchObject({ index: 2, channel: 'voice' });
  });

  test('an email taken by the server is no proof: the chain moves on at the deadline, unless the SMS is delivered late', () => {
    const c = code(resolveChain(null, LEGACY), { fallback: { email: 'a@example.com', webhookUrl: 'https://hook.example.com/' } });
    startStep(c, 1, T + 90_000);
    c.chain!.outcomes[1].outcome = 'sent';
    expect(chainMoveAtMs(c, T + 91_000)).toBe(T + 180_000);
    expect(moveReason(c)).toBe('not verified within 90 s');
    c.delivery = 'delivered';
    expect(chainMoveAtMs(c, T + 91_000)).toBeUndefined();
  });

  test('a step that failed moves on at once; the last step has nowhere to go', () => {
    const c = code(chain, { delivery: 'failed', attempts: [{ atMs: T, route: 'smsc', parts: { m1: 'failed' }, stat: 'REJECTD' }], deliveryStat: 'REJECTD' });
    startStep(c, 2, T);
    c.chain!.outcomes[1] = { ...c.chain!.outcomes[1], outcome: 'failed', reason: 'voice channel failed: HTTP 503 (3 tries)' };
    expect(chainMoveAtMs(c, T + 500)).toBe(T + 500);
    expect(moveReason(c)).toBe('voice channel failed: HTTP 503 (3 tries)');
    startStep(c, 3, T + 500);
    expect(c.chain!.outcomes.map((o) => o.outcome)).toEqual(['failed', 'failed', 'pending']);
    expect(chainMoveAtMs(c, T + 600)).toBeUndefined();
  });

  test('a caller-supplied code has no later steps (it cannot be re-derived)', () => {
    expect(nextStepIndex(code(chain, { callerCode: true }))).toBeUndefined();
  });
});
