/**
 * Workspace isolation (issue 12): two tenants run as two deployments on one Temporal namespace,
 * each with its own tenant name, task queue, workers, SMSC and keys (`npm run keys`). Tenant A's
 * credentials (its keys, through its own client) can neither verify nor read tenant B's session,
 * even with B's session id in hand, and B's session is unharmed. docs/contract.md, "Tenants and workspaces"
 * says how to map tenants; a shared namespace isolates by keys, a namespace per tenant by access.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { deliveryReceiptSignal, statusQuery, verifyUpdate } from '../contract';
import { ENCRYPTED_ENCODING, KEY_ID_METADATA } from '../codec/payload-codec';
import { accepted, codeFrom, startStack, type TestStack } from './helpers/stack';

/** A deployment's own keys, as `npm run keys` makes them. */
function deploymentKeys(): Record<string, string> {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    OTP_HASH_KEY: randomBytes(32).toString('base64url'),
    OTP_PAYLOAD_KEYS: `k${randomBytes(3).toString('hex')}:${randomBytes(32).toString('base64')}`,
    OTP_SEAL_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    OTP_SEAL_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'),
    OTP_CODE_KEY: randomBytes(32).toString('base64url'),
    OTP_CALLBACK_KEY: randomBytes(32).toString('base64url'),
  };
}

let a: TestStack;
let b: TestStack;

beforeAll(async () => {
  a = await startStack({}, { OTP_TENANT: 'bank-a', ...deploymentKeys() });
  b = await startStack({}, { OTP_TENANT: 'bank-b', ...deploymentKeys() });
});
afterAll(async () => {
  await a?.stop();
  await b?.stop();
});

test("tenant A's client finds no session of tenant B's number, by number, under either tenant name", async () => {
  const phone = '+33612388001';
  accepted(await b.otp.send(phone, { profile: 'fast' }));
  const code = codeFrom((await b.waitForSms(phone))[0].text);
  expect(await a.otp.verify(phone, code)).toMatchObject({ valid: false, outcome: 'not_found' });
  expect(await a.otp.verify(phone, code, { tenant: 'bank-b' })).toMatchObject({ valid: false, outcome: 'not_found' });
  expect(await a.otp.status(phone)).toBeNull();
  expect(await a.otp.status(phone, { tenant: 'bank-b' })).toBeNull();
  // None of that touched B's session: its code still verifies, first try.
  expect(await b.otp.verify(phone, code)).toMatchObject({ valid: true, outcome: 'verified' });
});

test("with B's session id in hand, A's client can neither verify B's code nor read B's status, and B's session is unharmed", async () => {
  const phone = '+33612388002';
  const sent = accepted(await b.otp.send(phone, { profile: 'fast' }));
  const code = codeFrom((await b.waitForSms(phone))[0].text);
  // The right code, sent under A's payload key: B's workers cannot open it and refuse it as
  // unencrypted (a refusal A cannot even read: it is encrypted with B's key).
  await expect(a.otp.verifySession(sent.sessionId, code)).rejects.toThrow(/does not hold/);
  // B's status is encrypted with B's payload key, which A does not hold.
  await expect(a.otp.temporal.workflow.getHandle(sent.sessionId).query(statusQuery)).rejects.toThrow(/does not hold/);
  // Refused in the update's validator: no failed workflow task, nothing in B's history, no attempt used.
  expect((await b.otp.status(phone))?.code).toMatchObject({ state: 'active', attemptsRemaining: 5 });
  expect(await b.otp.verify(phone, code)).toMatchObject({ valid: true, outcome: 'verified' });
});

test("someone with access to the namespace but no keys cannot stall B's session with a forged ciphertext under B's key id", async () => {
  const phone = '+33612388003';
  const sent = accepted(await b.otp.send(phone, { profile: 'fast' }));
  const code = codeFrom((await b.waitForSms(phone))[0].text);
  // B's key id is visible in any payload's metadata; the ciphertext is garbage (its tag cannot check).
  const keyId = b.config.keys.payload[0].id;
  const forger: PayloadCodec = {
    encode: async (payloads) =>
      payloads.map(() => ({ metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: Buffer.from(keyId) }, data: randomBytes(64) })),
    decode: async (payloads) => payloads,
  };
  const client = new Client({ connection: b.otp.temporal.connection, namespace: b.config.temporal.namespace, dataConverter: { payloadCodecs: [forger] } });
  const handle = client.workflow.getHandle(sent.sessionId);
  // Refused (the refusal comes back encrypted with B's key, which the forger cannot read).
  await expect(handle.executeUpdate(verifyUpdate, { args: [{ sealedCode: 'x' }] })).rejects.toThrow(/Unknown encoding: binary\/encrypted/);
  await handle.signal(deliveryReceiptSignal, {
    messageId: 'forged',
    codeSeq: 1,
    stat: 'UNDELIV',
    outcome: 'failed',
    err: '001',
    receivedAt: new Date().toISOString(),
  });
  // Still answering at once, the code unspent and its delivery untouched by the forged receipt.
  expect((await b.otp.status(phone))?.code).toMatchObject({ state: 'active', attemptsRemaining: 5 });
  expect(await b.otp.verify(phone, code)).toMatchObject({ valid: true, outcome: 'verified' });
});
