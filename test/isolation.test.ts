/**
 * Issue 13: one destination's slow or failing traffic delays other numbers on the same route
 * only as far as docs/smsc.md ("Isolation between destinations") says. Ordering, not timing: the
 * healthy numbers' SMS are on their handsets while the troubled destination's send is still open.
 */
import { accepted, startStack, type TestStack } from './helpers/stack';
import { waitFor } from './helpers/wait';

let stack: TestStack;
beforeAll(async () => {
  // A slow destination's submit_sm_resp takes 4 s: longer than any healthy send should wait.
  stack = await startStack({ slowResponseMs: 4000 });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

/** A send, and whether it has answered yet. */
function tracked<T>(p: Promise<T>): { done: () => boolean; result: Promise<T> } {
  let finished = false;
  const result = p.finally(() => (finished = true));
  return { done: () => finished, result };
}

test('a destination the SMSC answers slowly holds only its own window slots: other numbers get their SMS first', async () => {
  const slow = '+33612880001';
  stack.sim.setBehaviour(slow, 'slow');
  const slowSend = tracked(stack.otp.send(slow));
  const healthy = ['+33612880002', '+33612880003', '+33612880004'];
  for (const phone of healthy) accepted(await stack.otp.send(phone));
  for (const phone of healthy) await stack.waitForSms(phone);
  expect(slowSend.done()).toBe(false);
  accepted(await slowSend.result);
}, 60_000);

test('a destination the SMSC keeps throttling pauses the route for at most throttleMaxMs at a time: other numbers get through while it is still refused', async () => {
  const throttled = '+33612880005';
  stack.sim.setBehaviour(throttled, 'throttle');
  const throttledSend = tracked(stack.otp.send(throttled).catch((err: Error) => err));
  const healthy = ['+33612880006', '+33612880007'];
  for (const phone of healthy) accepted(await stack.otp.send(phone));
  for (const phone of healthy) await stack.waitForSms(phone);
  // The healthy numbers were not held behind it: its send is still open.
  expect(throttledSend.done()).toBe(false);
  // And it is still being retried (until submitDeadlineMs): on a busy machine the healthy SMS can land before its second try.
  await waitFor(
    () => stack.sim.submits.filter((s) => s.to === throttled && s.status === 0x58).length,
    (refusals) => refusals > 1,
    'a second ESME_RTHROTTLED for the throttled number',
    5000,
  );
  expect(throttledSend.done()).toBe(false);
  await throttledSend.result;
}, 60_000);
