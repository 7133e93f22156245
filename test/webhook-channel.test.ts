/**
 * Channel "webhook": the workers make the code and POST it, signed, to the
 * profile's deliveryWebhookUrl; the caller never sees it. A real HTTP receiver
 * on loopback (allowed by OTP_OUTBOUND_ALLOW in the test stack).
 */
import { createHmac } from 'node:crypto';
import { OtpRequestError, WEBHOOK_EVENT_ID_HEADER, verifyWebhookSignature, type WebhookDeliveryMessage } from '../client';
import { AesGcmPayloadCodec } from '../codec/payload-codec';
import { collectPayloads, expectAbsent, rawHistory } from './helpers/history';
import { accepted, startStack, TEST_PROFILES, type TestStack } from './helpers/stack';
import { startHttpReceiver, type ReceivedRequest } from './helpers/http-receiver';
import { settleFor } from './helpers/wait';

const CALLBACK_KEY = 'webhook-delivery-key-0123456789';
let stack: TestStack;
let receiver: { url: string; posts: ReceivedRequest[]; close: () => Promise<void> };
let n = 0;
const phone = () => `+336127${String(++n).padStart(5, '0')}`;

beforeAll(async () => {
  // /flaky answers 503 to the first POST of each event, then 204; /gone answers 410 (a permanent refusal).
  const seen = new Set<string>();
  const http = await startHttpReceiver((r) => {
    if (r.path === '/broken') return 500;
    if (r.path === '/gone') return 410;
    const id = String(r.headers[WEBHOOK_EVENT_ID_HEADER]);
    if (r.path === '/flaky' && !seen.has(id)) return (seen.add(id), 503);
    return 204;
  });
  receiver = { url: `${http.base}/otp`, posts: http.requests, close: http.close };
  stack = await startStack(
    {},
    {
      OTP_CALLBACK_KEY: CALLBACK_KEY,
      OTP_PROFILES: JSON.stringify({
        ...TEST_PROFILES,
        hooked: {
          extends: 'fast',
          deliveryWebhookUrl: receiver.url,
          templates: { en: '{brand}: your code is {code}.', fr: '{brand} : votre code est {code}.' },
        },
        broken: { extends: 'fast', deliveryWebhookUrl: `${http.base}/broken` },
        flaky: { extends: 'fast', deliveryWebhookUrl: `${http.base}/flaky` },
        gone: { extends: 'fast', deliveryWebhookUrl: `${http.base}/gone` },
        outside: { extends: 'fast', deliveryWebhookUrl: 'http://10.1.2.3/otp' },
      }),
    },
  );
});
afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
});

const postsFor = (sessionId: string) => receiver.posts.filter((p) => (JSON.parse(p.raw) as WebhookDeliveryMessage).sessionId === sessionId);

test('the code goes to the profile’s webhook, signed; the caller never sees it; it verifies; history holds no code', async () => {
  const to = phone();
  const sent = accepted(await stack.otp.send(to, { profile: 'hooked', channel: 'webhook', locale: 'fr' }));
  expect(sent).toMatchObject({ status: 'sent', channel: 'webhook', codeSeq: 1, segments: 0, locale: 'fr' });
  expect(JSON.stringify(sent)).not.toMatch(/"code"/);

  const [post] = postsFor(sent.sessionId);
  expect(post.path).toBe('/otp');
  const body = JSON.parse(post.raw) as WebhookDeliveryMessage;
  expect(body).toEqual({
    sessionId: sent.sessionId,
    codeSeq: 1,
    channel: 'webhook',
    kind: 'delivery',
    code: expect.stringMatching(/^\d{6}$/),
    brand: 'Acme',
    expiresAt: sent.expiresAt,
    phone: to,
    profile: sent.profile,
    locale: 'fr',
    text: `Acme : votre code est ${body.code}.`,
  });
  // The signature a receiver checks: HMAC-SHA256 of "<timestamp>.<raw body>" under OTP_CALLBACK_KEY.
  const timestamp = String(post.headers['x-otp-timestamp']);
  const signature = String(post.headers['x-otp-signature']);
  expect(signature).toBe(`sha256=${createHmac('sha256', CALLBACK_KEY).update(`${timestamp}.${post.raw}`).digest('hex')}`);
  expect(verifyWebhookSignature(CALLBACK_KEY, { timestamp, signature, body: post.raw })).toBe(true);
  expect(verifyWebhookSignature(CALLBACK_KEY, { timestamp, signature, body: post.raw.replace(body.code, '000000') })).toBe(false);
  expect(verifyWebhookSignature('another-key-0123456789', { timestamp, signature, body: post.raw })).toBe(false);
  expect(post.headers['x-otp-event-id']).toBe(`${sent.sessionId}:1:delivery`);

  // Nothing went by SMS; the session says webhook, delivered.
  expect(stack.sim.messages(to)).toHaveLength(0);
  const status = await stack.otp.status(to);
  expect(status?.code).toMatchObject({ seq: 1, channel: 'webhook', delivery: 'delivered', state: 'active', escalatedTo: [] });
  expect(status?.events.map((e) => e.detail).join('\n')).toContain("posted to the profile's delivery webhook: delivered (HTTP 204)");

  expect(await stack.otp.verify(to, body.code)).toMatchObject({ valid: true, outcome: 'verified' });

  // No code and no number in the raw history; no code even decrypted with the payload keys.
  const bytes = await rawHistory(stack.otp.temporal, sent.sessionId);
  for (const [secret, what] of [
    [body.code, 'the code'],
    [to, 'the number'],
    [to.slice(1), 'the number without +'],
  ])
    expectAbsent(bytes, secret, what);
  const history = await stack.otp.temporal.workflow.getHandle(sent.sessionId).fetchHistory();
  const payloads = collectPayloads(history);
  expect(payloads.length).toBeGreaterThan(3);
  const decoded = (await new AesGcmPayloadCodec(stack.config.keys.payload).decode(payloads)).map((p) => Buffer.from(p.data ?? []).toString()).join('\n');
  expect(decoded).toContain('"digest"');
  expect(decoded).not.toContain(body.code);
});

test('a profile without deliveryWebhookUrl refuses channel "webhook", naming the field; nothing is sent', async () => {
  const to = phone();
  const before = receiver.posts.length;
  const err = await stack.otp.send(to, { profile: 'fast', channel: 'webhook' }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(OtpRequestError);
  expect(err).toMatchObject({ type: 'InvalidRequest', message: 'profile "fast" has no deliveryWebhookUrl: channel "webhook" needs one in the profile' });
  await settleFor(200, 'negative check: give a wrong POST or SMS time to show');
  expect(receiver.posts.length).toBe(before);
  expect(stack.sim.messages(to)).toHaveLength(0);
  expect((await stack.otp.status(to))?.code).toBeUndefined();
});

test('channel "webhook" takes no caller code or fallback contact, and a URL outside OTP_OUTBOUND_ALLOW is refused before anything is sent', async () => {
  const to = phone();
  const before = receiver.posts.length;
  await expect(stack.otp.send(to, { profile: 'hooked', channel: 'webhook', code: '123456' })).rejects.toThrow(
    'channel "webhook" sends a code the workers make: drop the code',
  );
  await expect(stack.otp.send(to, { profile: 'hooked', channel: 'webhook', email: 'a@example.com' })).rejects.toThrow(
    'channel "webhook" has no fallback channels: drop email and webhookUrl',
  );
  await expect(stack.otp.send(to, { profile: 'outside', channel: 'webhook' })).rejects.toThrow(/^profile "outside" deliveryWebhookUrl .*OTP_OUTBOUND_ALLOW/);
  expect(receiver.posts.length).toBe(before);
  expect(stack.sim.messages(to)).toHaveLength(0);
});

test('a receiver that keeps answering 500 gets three tries, then the send fails naming it; the code is recorded as failed and never goes by SMS', async () => {
  const to = phone();
  const err = await stack.otp.send(to, { profile: 'broken', channel: 'webhook' }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(OtpRequestError);
  expect(err).toMatchObject({
    type: 'DispatchFailed',
    message: expect.stringMatching(/^webhook delivery failed: webhook delivery to 127\.0\.0\.1:\d+ answered HTTP 500 \(3 tries\)$/),
  });
  const sessionId = stack.otp.sessionId(to);
  expect(postsFor(sessionId)).toHaveLength(3);
  const status = await stack.otp.status(to);
  expect(status?.code).toMatchObject({ seq: 1, channel: 'webhook', delivery: 'failed', escalatedTo: [] });
  await settleFor(300, 'negative check: give a fallback SMS or a fourth POST time to show');
  expect(stack.sim.messages(to)).toHaveLength(0);
  expect(postsFor(sessionId)).toHaveLength(3);
});

test('a receiver that fails once (a 503) gets the code on the next try, under the same event id; the code verifies', async () => {
  const to = phone();
  const sent = accepted(await stack.otp.send(to, { profile: 'flaky', channel: 'webhook' }));
  const posts = postsFor(sent.sessionId);
  expect(posts.map((p) => p.answered)).toEqual([503, 204]);
  expect(new Set(posts.map((p) => p.headers[WEBHOOK_EVENT_ID_HEADER])).size).toBe(1);
  const { code } = JSON.parse(posts[1].raw) as WebhookDeliveryMessage;
  expect(await stack.otp.verify(to, code)).toMatchObject({ valid: true });
});

test('a permanent refusal (410) is not tried again', async () => {
  const to = phone();
  await expect(stack.otp.send(to, { profile: 'gone', channel: 'webhook' })).rejects.toThrow(/answered HTTP 410$/);
  expect(postsFor(stack.otp.sessionId(to))).toHaveLength(1);
});
