/**
 * Window slots of submits in doubt, over a loopback session with the simulator.
 * Found by fuzzing the PDU boundary (fuzz-pdu-boundary.test.ts): a garbage PDU
 * whose command_length covers exactly our submit_sm_resp swallows it, the
 * session stays in step and keeps answering enquire_link, and the submit's
 * slot was held for the life of the session; two of them filled a window of 2
 * and every later submit waited for a slot for ever, past its deadline.
 */
import { SmppBind, type SubmitParams } from '../../smpp/bind';
import { SmppTransientError } from '../../smpp/errors';
import { SmppInDoubtError } from '../../smpp/submit-tracker';
import { rawPdu } from '../../sim/hostile-pdus';
import { SmscSimulator } from '../../sim/smsc-simulator';
import { quiet, until } from '../helpers/smpp';

const submit = (to: string): SubmitParams => ({
  source_addr: 'Acme',
  source_addr_ton: 5,
  source_addr_npi: 0,
  destination_addr: to,
  dest_addr_ton: 1,
  dest_addr_npi: 1,
  data_coding: 0,
  registered_delivery: 0,
  short_message: { message: 'x' },
});

let sim: SmscSimulator;
let bind: SmppBind | undefined;
beforeEach(async () => {
  sim = new SmscSimulator({ smppPort: 0, httpPort: 0, quiet: true, holdReceipts: true });
  await sim.start();
});
afterEach(async () => {
  await bind?.close();
  await sim.stop();
});

/** Submits to `to` while the simulator writes a deliver_sm header whose command_length covers the submit_sm_resp that follows. */
async function swallowed(b: SmppBind, to: string, respLength: number, seq: number): Promise<unknown> {
  const pending = b.submit(submit(to)).catch((err: unknown) => err);
  await new Promise((r) => setTimeout(r, 30));
  const lie = rawPdu(0x5, seq, Buffer.alloc(0));
  lie.writeUInt32BE(16 + respLength, 0);
  sim.boundSession('otp')!.socket.write(lie);
  return pending;
}

test('responses swallowed whole: the session is torn down after waitAckMs, the slots come back, the next submit is answered', async () => {
  bind = new SmppBind({
    name: 'w',
    host: '127.0.0.1',
    port: sim.smppPort,
    systemId: 'otp',
    password: 'secret',
    logger: quiet,
    window: 2,
    responseTimeoutMs: 250,
    enquireLinkMs: 200,
    waitAckMs: 500,
    reconnectInitialMs: 10,
  });
  bind.start();
  await bind.ready(5000);
  const id = await bind.submit(submit('33612000001'));
  sim.timing.setDestination('+33612000002', { responseDelayMs: 100 }); // the lie goes out before the answer
  const respLength = 16 + id.length + 1;
  for (const seq of [0x40000001, 0x40000002]) expect(await swallowed(bind, '33612000002', respLength, seq)).toBeInstanceOf(SmppInDoubtError);
  expect(bind.describe()).toMatchObject({ state: 'bound', outstanding: 2, pdu: expect.objectContaining({ parseTeardowns: 0 }) });
  // Without waitAckMs this waited for ever: bound, keep-alive answered, both slots held.
  await until(() => bind!.stats.reconnects >= 1 && bind!.state === 'bound' && bind!.describe().outstanding === 0, 'torn down, slots freed, bound again', 3000);
  const next = await bind.submit(submit('33612000003'), 'otp', Date.now() + 2000);
  expect(next.length).toBeGreaterThan(0);
});

test('a submit waiting for a window slot fails at its deadline, unsent, instead of waiting for ever', async () => {
  bind = new SmppBind({
    name: 'w',
    host: '127.0.0.1',
    port: sim.smppPort,
    systemId: 'otp',
    password: 'secret',
    logger: quiet,
    window: 1,
    responseTimeoutMs: 2000,
  });
  bind.start();
  await bind.ready(5000);
  sim.timing.setDestination('+33612000004', { responseDelayMs: 1000 });
  const slow = bind.submit(submit('33612000004'));
  const started = Date.now();
  const err = await bind.submit(submit('33612000005'), 'otp', Date.now() + 200).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SmppTransientError);
  expect(err).not.toBeInstanceOf(SmppInDoubtError);
  expect((err as Error).message).toMatch(/no free window slot before the submit deadline/);
  expect(Date.now() - started).toBeLessThan(900);
  await slow;
  expect(sim.submits.filter((s) => s.to === '+33612000005')).toHaveLength(0);
});
