/**
 * Issue 12: sessions are found by their search attributes through a visibility
 * query on the real dev server (global setup registers them), and no attribute
 * value carries the number or the code.
 */
import { temporal } from '@temporalio/proto';
import { OTP_SEARCH_ATTRIBUTES, OTP_SEARCH_ATTRIBUTE_KEYS, type OtpSearchStatus } from '../contract';
import { accepted, codeFrom, startStack, type TestStack } from './helpers/stack';
import { waitFor } from './helpers/wait';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ behaviours: { '+33612830002': 'rejected' } });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

/** Session ids the visibility query returns, polled until `expected` shows up (visibility lags a little). */
async function listUntil(query: string, expected: string[], timeoutMs = 15_000): Promise<string[]> {
  return waitFor(
    async () => {
      const ids: string[] = [];
      for await (const wf of stack.otp.temporal.workflow.list({ query })) ids.push(wf.workflowId);
      return ids.sort();
    },
    (ids) => expected.every((id) => ids.includes(id)) && ids.length === expected.length,
    `visibility to list ${query}`,
    timeoutMs,
    200,
  );
}

async function waitForStatus(phone: string, ok: (delivery: string | undefined) => boolean): Promise<void> {
  await waitFor(async () => (await stack.otp.status(phone))?.code?.delivery, ok, 'the delivery to settle', 10_000);
}

test('sessions are listed by status, tenant and country with a visibility query; no value holds the number or the code', async () => {
  const s = stack;
  const tenant = s.config.tenant;
  const verified = '+33612830001';
  const failed = '+33612830002';
  const delivered = '+447911123456';
  const locked = '+33612830004';

  accepted(await s.otp.send(verified));
  accepted(await s.otp.send(failed));
  accepted(await s.otp.send(delivered));
  accepted(await s.otp.send(locked, { profile: 'fast-lock1' }));
  await waitForStatus(verified, (d) => d === 'delivered');
  await waitForStatus(failed, (d) => d === 'failed');
  await waitForStatus(delivered, (d) => d === 'delivered');
  const [sms] = await s.waitForSms(verified);
  const code = codeFrom(sms.text);
  expect(await s.otp.verify(verified, code)).toMatchObject({ valid: true });
  const codes = [code, codeFrom((await s.waitForSms(delivered))[0].text), codeFrom((await s.waitForSms(locked))[0].text)];
  // One wrong code locks a fast-lock1 code.
  expect(await s.otp.verify(locked, codes[2] === '000000' ? '111111' : '000000')).toMatchObject({ valid: false });

  const id = (p: string) => s.otp.sessionId(p);
  const byStatus = (status: OtpSearchStatus) => `${OTP_SEARCH_ATTRIBUTES.tenant.name} = '${tenant}' AND ${OTP_SEARCH_ATTRIBUTES.status.name} = '${status}'`;
  expect(await listUntil(byStatus('verified'), [id(verified)])).toEqual([id(verified)]);
  expect(await listUntil(byStatus('failed'), [id(failed)])).toEqual([id(failed)]);
  expect(await listUntil(byStatus('delivered'), [id(delivered)])).toEqual([id(delivered)]);
  expect(await listUntil(`${byStatus('locked')} AND OtpProfile = 'fast-lock1'`, [id(locked)])).toEqual([id(locked)]);
  // What ops type in the Web UI: failed today for a tenant, and French numbers by their calling code.
  const today = new Date(Date.now() - 24 * 3600_000).toISOString();
  expect(await listUntil(`${byStatus('failed')} AND StartTime > '${today}'`, [id(failed)])).toEqual([id(failed)]);
  expect(await listUntil(`OtpTenant = '${tenant}' AND OtpCountryCode = '33'`, [id(verified), id(failed), id(locked)])).toEqual(
    [id(verified), id(failed), id(locked)].sort(),
  );
  expect(await listUntil(`OtpTenant = '${tenant}' AND OtpCountryCode = '44' AND OtpDelivery = 'delivered' AND OtpChannel = 'sms'`, [id(delivered)])).toEqual([
    id(delivered),
  ]);

  for (const phone of [verified, failed, delivered, locked]) {
    const d = await s.otp.temporal.workflow.getHandle(id(phone)).describe();
    const values = Object.fromEntries(
      d.typedSearchAttributes.getAll().map((p) => [p.key.name, p.value instanceof Date ? p.value.toISOString() : String(p.value)]),
    );
    // Every session attribute is set: a missing one would make the query above miss sessions.
    for (const k of OTP_SEARCH_ATTRIBUTE_KEYS) expect(values[k.name]).toBeDefined();
    expect(values).toMatchObject({
      OtpTenant: tenant,
      OtpProfile: phone === locked ? 'fast-lock1' : 'login',
      OtpPurpose: 'login',
      OtpChannel: 'sms',
      OtpCountryCode: phone.startsWith('+33') ? '33' : '44',
    });
    const text = JSON.stringify(Object.values(values));
    const digits = phone.slice(1);
    // The number in any form (E.164, without "+", its national part, its last 6 digits) and every code: nowhere.
    for (const secret of [phone, digits, digits.slice(2), digits.slice(-6), ...codes]) expect(text).not.toContain(secret);
  }
}, 90_000);

test('a new session is listed as pending at once, from the attributes its client set at start: the send writes no upsert', async () => {
  const s = stack;
  const phone = '+33612830005';
  s.sim.setBehaviour(phone, 'no_receipt');
  accepted(await s.otp.send(phone));
  const id = s.otp.sessionId(phone);
  const query = `${OTP_SEARCH_ATTRIBUTES.tenant.name} = '${s.config.tenant}' AND ${OTP_SEARCH_ATTRIBUTES.status.name} = 'pending' AND ${OTP_SEARCH_ATTRIBUTES.countryCode.name} = '33'`;
  expect(await listUntil(query, [id])).toEqual([id]);
  const history = await s.otp.temporal.workflow.getHandle(id).fetchHistory();
  const types = (history.events ?? []).map((e) => e.eventType);
  expect(types).not.toContain(temporal.api.enums.v1.EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES);
  // The send went out all the same.
  expect((await s.otp.status(phone))?.code?.delivery).toBe('submitted');
}, 30_000);
