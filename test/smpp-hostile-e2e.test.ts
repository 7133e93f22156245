/**
 * Hostile SMSC behaviour end to end (dev server, worker, simulator over TCP):
 * what the bind decides must hold up through the activity and the session.
 */
import { accepted, startStack, type TestStack } from './helpers/stack';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

async function stack(): Promise<TestStack> {
  const s = await startStack();
  cleanup.push(() => s.stop());
  return s;
}

test('submit_sm_resp ESME_ROK without message_id: the send succeeds, the code goes out once, and no receipt link is held for a made-up id', async () => {
  const s = await stack();
  const phone = '+33612700001';
  s.sim.hostile.forDestination(phone, { submitResponse: 'ok_without_message_id' });
  s.sim.setBehaviour(phone, 'no_receipt');
  accepted(await s.otp.send(phone));
  expect(await s.waitForSms(phone)).toHaveLength(1);
  expect(s.sim.submits.filter((x) => x.to === phone)).toHaveLength(1);
  expect(s.worker.links.size).toBe(0);
  expect(s.worker.smsc.describe()[0].binds[0].pdu.acceptedWithoutId).toBe(1);
});
