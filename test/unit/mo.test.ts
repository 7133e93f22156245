/**
 * Mobile-originated messages at the ESME: keyword matching, and the deliver_sm
 * answer (ROK only after the handler resolved; ESME_RX_T_APPN when it fails or
 * is too slow, so the SMSC re-sends). Real TCP against the simulator, no Temporal.
 */
import { SMPP_STATUS } from '../../smpp/errors';
import { matchKeyword, parseKeywords } from '../../smpp/mo';
import type { ParsedMo } from '../../smpp/mo';
import { SmscRoute } from '../../smpp/smsc';
import { SmscSimulator } from '../../sim/smsc-simulator';
import { DEFAULT_START_KEYWORDS, DEFAULT_STOP_KEYWORDS, loadConfig, ConfigError } from '../../config/config';

const quiet = { info: () => undefined, warn: () => undefined };
const STOP = parseKeywords(DEFAULT_STOP_KEYWORDS);
const START = parseKeywords(DEFAULT_START_KEYWORDS);

test('keywords: the trimmed, case-folded first word', () => {
  expect(matchKeyword('  stop ', STOP, START)).toEqual({ keyword: 'STOP', optOut: 'stop' });
  expect(matchKeyword('Unsubscribe me please', STOP, START)).toEqual({ keyword: 'UNSUBSCRIBE', optOut: 'stop' });
  expect(matchKeyword('STOP.', STOP, START)).toEqual({ keyword: 'STOP', optOut: 'stop' });
  expect(matchKeyword('start', STOP, START)).toEqual({ keyword: 'START', optOut: 'start' });
  expect(matchKeyword('please stop', STOP, START)).toBeUndefined();
  expect(matchKeyword('stopping by later', STOP, START)).toBeUndefined();
  expect(matchKeyword('', STOP, START)).toBeUndefined();
  expect(parseKeywords(' stop, Arret ,,')).toEqual(['STOP', 'ARRET']);
});

test('settings: OTP_MO_WEBHOOK_URL must pass OTP_OUTBOUND_ALLOW; keyword lists may not overlap', () => {
  expect(() => loadConfig({ OTP_MO_WEBHOOK_URL: 'http://127.0.0.1:9/mo' })).toThrow(ConfigError);
  expect(loadConfig({ OTP_MO_WEBHOOK_URL: 'http://127.0.0.1:9/mo', OTP_OUTBOUND_ALLOW: '127.0.0.1' }).mo.webhookUrl).toBe('http://127.0.0.1:9/mo');
  expect(loadConfig({}).mo).toEqual({ webhookUrl: undefined, stopKeywords: STOP, startKeywords: START });
  expect(() => loadConfig({ OTP_MO_START_KEYWORDS: 'START,STOP' })).toThrow(/both list STOP/);
});

describe('MO acknowledgement', () => {
  let sim: SmscSimulator;
  let route: SmscRoute;
  beforeAll(async () => {
    sim = new SmscSimulator({ smppPort: 0, httpPort: 0, quiet: true });
    await sim.start();
    route = new SmscRoute(
      { name: 'r', host: '127.0.0.1', port: sim.smppPort, systemId: 'otp', password: 'secret', reconnectInitialMs: 50, receiptAckDeadlineMs: 500 },
      quiet,
    );
    route.start();
    await route.ready(5000);
  });
  afterAll(async () => {
    await new Promise((r) => setTimeout(r, 300)); // the slow handler's timer
    await route.close();
    await sim.stop();
  });

  test('ROK only after the handler resolved, with sender, recipient and text', async () => {
    const got: ParsedMo[] = [];
    let handedAt = 0;
    route.onMobileOriginated(async (mo) => {
      await new Promise((r) => setTimeout(r, 100));
      got.push(mo);
      handedAt = Date.now();
    });
    const answer = await sim.sendMobileOriginated({ from: '+33612345678', to: '38000', text: 'Yes please' });
    expect(answer.status).toBe(SMPP_STATUS.ESME_ROK);
    expect(answer.answeredAt).toBeGreaterThanOrEqual(handedAt);
    expect(got[0]).toMatchObject({ from: '33612345678', fromTon: 1, to: '38000', text: 'Yes please' });
    const viaData = await sim.sendMobileOriginated({ from: '+33612345678', to: '38000', text: 'data', pdu: 'data_sm' });
    expect(viaData.status).toBe(SMPP_STATUS.ESME_ROK);
    expect(got[1].text).toBe('data');
  });

  test('ESME_RX_T_APPN when the hand-off fails or outlasts the deadline', async () => {
    route.onMobileOriginated(async () => {
      throw new Error('Temporal unavailable');
    });
    expect((await sim.sendMobileOriginated({ from: '+33612345678', to: '38000', text: 'STOP' })).status).toBe(SMPP_STATUS.ESME_RX_T_APPN);
    route.onMobileOriginated(() => new Promise((r) => setTimeout(r, 700)));
    expect((await sim.sendMobileOriginated({ from: '+33612345678', to: '38000', text: 'STOP' })).status).toBe(SMPP_STATUS.ESME_RX_T_APPN);
    const stats = route.binds.map((b) => b.stats);
    expect(stats.reduce((n, s) => n + s.moDeferred, 0)).toBe(2);
  });
});
