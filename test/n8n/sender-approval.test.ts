/**
 * Send OTP's sender revision operations inside a real n8n 2.x (issue 12): one flow proposes a
 * revision as one credential's Identity, fails to approve it as the same identity, approves it as
 * another credential's, and lists the trail; then a send through n8n goes out, where before the
 * approval it was refused and nothing reached the SMSC.
 */
import { setUpN8n, type N8nHarness, type N8nRun } from '../../dev/n8n-harness';
import { startStack, temporalAddress, type TestStack } from '../helpers/stack';

const PKG = 'n8n-nodes-temporal-otp';
const ALICE = { id: 'otpApprovalAlice01', name: 'Temporal OTP (alice)' };
const BOB = { id: 'otpApprovalBob0001', name: 'Temporal OTP (bob)' };
let stack: TestStack;
let n8n: N8nHarness;

beforeAll(async () => {
  [stack, n8n] = await Promise.all([startStack({}, { OTP_SENDER_APPROVAL: 'required', OTP_MAX_SEND_WAIT_MS: '10000' }), setUpN8n()]);
  const data = (identity: string) => ({
    address: temporalAddress(),
    namespace: 'default',
    taskQueue: stack.config.temporal.taskQueue,
    tls: false,
    hashSecret: '',
    payloadSecrets: '',
    identity,
  });
  await n8n.importCredentials([
    { ...ALICE, type: 'temporalOtpApi', data: data('alice@example.com') },
    { ...BOB, type: 'temporalOtpApi', data: data('bob@example.com') },
  ]);
}, 20 * 60_000);

afterAll(async () => {
  await stack?.stop();
});

const output = (run: N8nRun, node: string) => run.data.resultData.runData[node]?.[0]?.data?.main[0] ?? [];

function node(name: string, x: number, cred: typeof ALICE, parameters: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    id: name,
    name,
    type: `${PKG}.sendOtp`,
    typeVersion: 2,
    position: [x, 0],
    credentials: { temporalOtpApi: cred },
    parameters: { tenant: stack.config.tenant, ...parameters },
    ...extra,
  };
}

function flow(id: string, nodes: ReturnType<typeof node>[]) {
  const all = [{ id: 't', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} }, ...nodes];
  const connections = Object.fromEntries(all.slice(0, -1).map((n, i) => [n.name, { main: [[{ node: all[i + 1].name, type: 'main', index: 0 }]] }]));
  return { id, name: id, active: false, settings: {}, nodes: all, connections };
}

test(
  'propose as one identity, self-approval refused, approve as another, list: then the send goes out',
  async () => {
    const phone = '+33612950001';
    const send = node('Send', 240, BOB, { operation: 'send', phone, options: {} }, { onError: 'continueRegularOutput' });
    await n8n.importWorkflows([flow('otpApprovalSend01', [send])]);
    const [refused] = output(await n8n.execute('otpApprovalSend01'), 'Send');
    expect(refused.json).toMatchObject({ sent: false, outcome: 'blocked', reason: 'sender_not_approved' });
    expect(stack.sim.submits.filter((s) => s.to === phone)).toHaveLength(0);

    const hash = "={{ $('Propose').item.json.contentHash }}";
    await n8n.importWorkflows([
      flow('otpApprovalFlow01', [
        node('Propose', 240, ALICE, { operation: 'proposeRevision', revisionProfile: 'login', revisionNote: 'from n8n' }),
        node('Self Approve', 480, ALICE, { operation: 'approveRevision', revisionProfile: 'login', contentHash: hash }, { onError: 'continueRegularOutput' }),
        node('Approve', 720, BOB, { operation: 'approveRevision', revisionProfile: 'login', contentHash: hash }),
        node('List', 960, BOB, { operation: 'listRevisions', revisionProfile: 'login' }),
      ]),
    ]);
    const run = await n8n.execute('otpApprovalFlow01');
    expect(output(run, 'Propose')[0].json).toMatchObject({
      state: 'proposed',
      proposedBy: 'alice@example.com',
      note: 'from n8n',
      contentHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(output(run, 'Self Approve')[0].json).toMatchObject({
      outcome: 'error',
      error: expect.stringMatching(/alice@example.com" proposed this revision and cannot approve it/),
    });
    expect(output(run, 'Approve')[0].json).toMatchObject({ state: 'approved', proposedBy: 'alice@example.com', decidedBy: 'bob@example.com' });
    expect(output(run, 'List')[0].json).toMatchObject({
      profile: 'login',
      revisions: [expect.objectContaining({ state: 'approved', decidedBy: 'bob@example.com' })],
    });

    await stack.worker.approvals!.sync();
    const [sent] = output(await n8n.execute('otpApprovalSend01'), 'Send');
    expect(sent.json).toMatchObject({ sent: true, outcome: 'sent' });
    expect(await stack.waitForSms(phone)).toHaveLength(1);
  },
  10 * 60_000,
);
