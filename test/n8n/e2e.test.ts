/**
 * The nodes inside a real n8n 2.x: this package is packed and installed as a
 * community package, credentials and flows are imported with the n8n CLI, and
 * `n8n execute` runs them against the real Temporal dev server, the worker and
 * the SMSC simulator. A flow sends a code; the test reads the code from the
 * phone inbox as a handset would; a second flow verifies it and the Valid
 * branch fires; a wrong code takes the Invalid branch.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { codeFrom, startStack, temporalAddress, TEST_PROFILES, type TestStack } from '../helpers/stack';
import { setUpN8n, type N8nHarness, type N8nRun } from '../../dev/n8n-harness';

const PKG = 'n8n-nodes-temporal-otp';
const CRED = { id: 'otpE2eCredential1', name: 'Temporal OTP (e2e)' };
let stack: TestStack;
let n8n: N8nHarness;

beforeAll(async () => {
  // Real n8n is slow to start each execution, more so on a loaded machine: codes live 15 min (the
  // fail-closed matrix takes minutes) and a send may wait 10 s before it counts as too old.
  const profiles = { ...TEST_PROFILES, login: { ttlSeconds: 900 } };
  [stack, n8n] = await Promise.all([startStack({}, { OTP_PROFILES: JSON.stringify(profiles), OTP_MAX_SEND_WAIT_MS: '10000' }), setUpN8n()]);
  await n8n.importCredentials([
    {
      ...CRED,
      type: 'temporalOtpApi',
      data: { address: temporalAddress(), namespace: 'default', taskQueue: stack.config.temporal.taskQueue, tls: false, hashSecret: '', payloadSecrets: '' },
    },
  ]);
  // The example flows import into real n8n as shipped.
  const examples = join(__dirname, '..', '..', 'examples', 'n8n');
  await n8n.importWorkflows(
    readdirSync(examples)
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(join(examples, f), 'utf8'))),
  );
  const listed = await n8n.cli(['list:workflow'], 120_000, { N8N_LOG_LEVEL: 'info' });
  for (const id of ['otpExample2faLogin', 'otpExampleVerifyEp', 'otpExampleCustomCh']) expect(listed).toContain(id);
}, 20 * 60_000);

afterAll(async () => {
  await stack?.stop();
});

test('installed as n8n installs a community package: the nodes, their icons and codex, only the client, under 50 MB', () => {
  const { dir, bytes, packages } = n8n.installed;
  console.log(`n8n-nodes-temporal-otp as n8n 2.40.7 installs it: ${(bytes / 1e6).toFixed(1)} MB (${bytes} bytes) in ${packages} packages`);
  expect(bytes).toBeLessThan(50e6);
  const root = join(__dirname, '..', '..');
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { optionalDependencies: Record<string, string> };
  // Everything built for n8n (node and credential classes, codex files, icons) is in the tarball.
  const built = ['nodes', 'credentials'].flatMap((d) =>
    readdirSync(join(root, 'dist', d), { recursive: true, encoding: 'utf8' })
      .filter((f) => /\.(js|json|svg)$/.test(f))
      .map((f) => relative(root, join(root, 'dist', d, f))),
  );
  expect(built.length).toBeGreaterThan(6);
  expect(built.filter((f) => !existsSync(join(dir, f)))).toEqual([]);
  expect(Object.keys(pkg.optionalDependencies).filter((name) => existsSync(join(dir, 'node_modules', name)))).toEqual([]);
});

const credentials = { temporalOtpApi: CRED };
const trigger = { id: 't', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} };

function sendFlow(id: string, phone: string) {
  return {
    id,
    name: `Send ${id}`,
    active: false,
    settings: {},
    nodes: [
      trigger,
      {
        id: 's',
        name: 'Send OTP',
        type: `${PKG}.sendOtp`,
        typeVersion: 1,
        position: [240, 0],
        credentials,
        parameters: { operation: 'send', phone, tenant: stack.config.tenant, options: {} },
      },
    ],
    connections: { Start: { main: [[{ node: 'Send OTP', type: 'main', index: 0 }]] } },
  };
}

function verifyFlow(id: string, phone: string, code: string) {
  return {
    id,
    name: `Verify ${id}`,
    active: false,
    settings: {},
    nodes: [
      trigger,
      {
        id: 'v',
        name: 'Verify OTP',
        type: `${PKG}.verifyOtp`,
        typeVersion: 1,
        position: [240, 0],
        credentials,
        parameters: { verifyBy: 'phone', phone, code, tenant: stack.config.tenant },
      },
      { id: 'ok', name: 'On Valid', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [480, -100], parameters: {} },
      { id: 'no', name: 'On Invalid', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [480, 100], parameters: {} },
    ],
    connections: {
      Start: { main: [[{ node: 'Verify OTP', type: 'main', index: 0 }]] },
      'Verify OTP': { main: [[{ node: 'On Valid', type: 'main', index: 0 }], [{ node: 'On Invalid', type: 'main', index: 0 }]] },
    },
  };
}

const output = (run: N8nRun, node: string, index = 0) => run.data.resultData.runData[node]?.[0]?.data?.main[index] ?? [];

test(
  'a flow sends a code, the handset gets it, a flow verifies it on the Valid branch, a wrong code takes Invalid',
  async () => {
    const phone = '+33612900001';
    await n8n.importWorkflows([sendFlow('otpE2eSendFlow01', phone)]);
    const sent = await n8n.execute('otpE2eSendFlow01');
    const [result] = output(sent, 'Send OTP');
    expect(result.json).toMatchObject({ status: 'sent', channel: 'sms', maskedPhone: '+33••••••001', segments: 1 });
    expect(JSON.stringify(result.json)).not.toContain('612900001');

    const [sms] = await stack.waitForSms(phone);
    const code = codeFrom(sms.text);

    await n8n.importWorkflows([verifyFlow('otpE2eVerifyOk01', phone, code)]);
    const ok = await n8n.execute('otpE2eVerifyOk01');
    expect(output(ok, 'Verify OTP', 0)).toEqual([expect.objectContaining({ json: expect.objectContaining({ valid: true, outcome: 'verified' }) })]);
    expect(output(ok, 'Verify OTP', 1)).toEqual([]);
    expect(ok.data.resultData.runData['On Valid']).toBeDefined();
    expect(ok.data.resultData.runData['On Invalid']).toBeUndefined();

    const phone2 = '+33612900002';
    await n8n.importWorkflows([sendFlow('otpE2eSendFlow02', phone2)]);
    await n8n.execute('otpE2eSendFlow02');
    const code2 = codeFrom((await stack.waitForSms(phone2))[0].text);
    const wrong = code2 === '000000' ? '111111' : '000000';
    await n8n.importWorkflows([verifyFlow('otpE2eVerifyNo01', phone2, wrong)]);
    const no = await n8n.execute('otpE2eVerifyNo01');
    expect(output(no, 'Verify OTP', 1)).toEqual([
      expect.objectContaining({ json: expect.objectContaining({ valid: false, outcome: 'invalid_code', attemptsRemaining: 4 }) }),
    ]);
    expect(no.data.resultData.runData['On Invalid']).toBeDefined();
    expect(no.data.resultData.runData['On Valid']).toBeUndefined();
  },
  10 * 60_000,
);

test(
  'fail closed: Temporal stopped, no worker polling, a wrong code or an empty code never reach Valid, under every "On Error" setting',
  async () => {
    const dead = { id: 'otpE2eDeadCred01', name: 'Temporal OTP (unreachable)' };
    const idle = { id: 'otpE2eIdleCred01', name: 'Temporal OTP (no worker)' };
    await n8n.importCredentials([
      {
        ...dead,
        type: 'temporalOtpApi',
        data: { address: '127.0.0.1:1', namespace: 'default', taskQueue: 'otp', tls: false, hashSecret: '', payloadSecrets: '' },
      },
      {
        ...idle,
        type: 'temporalOtpApi',
        data: { address: temporalAddress(), namespace: 'default', taskQueue: 'otp-nobody-polls-this', tls: false, hashSecret: '', payloadSecrets: '' },
      },
    ]);
    const phone = '+33612900003';
    await n8n.importWorkflows([sendFlow('otpE2eSendFlow03', phone)]);
    await n8n.execute('otpE2eSendFlow03');
    const code = codeFrom((await stack.waitForSms(phone))[0].text);
    const wrong = code === '000000' ? '111111' : '000000';
    // A session whose task queue no worker polls (its workers gone): a verify reaches it and waits.
    const orphanPhone = '+33612900006';
    const orphan = await stack.otp.temporal.workflow.start('otpSession', {
      workflowId: stack.otp.sessionId(orphanPhone),
      taskQueue: 'otp-nobody-polls-this',
      args: [{ tenant: stack.config.tenant, maskedPhone: '', v: 3 }],
    });
    const scenarios = [
      { name: 'Temporal stopped', creds: dead, phone, code, error: /not reachable|Temporal OTP request failed/ },
      { name: 'no worker polling', creds: idle, phone: orphanPhone, code, error: /no OTP worker is polling task queue 'otp-nobody-polls-this'/ },
      { name: 'a wrong code', creds: CRED, phone, code: wrong, error: undefined },
      { name: 'an empty code', creds: CRED, phone, code: ' ', error: /Code is empty/ },
    ];
    let n = 0;
    for (const s of scenarios) {
      for (const onError of ['stopWorkflow', 'continueRegularOutput', 'continueErrorOutput'] as const) {
        const id = `otpE2eFailClosed${String(++n).padStart(2, '0')}`;
        const flow = verifyFlow(id, s.phone, s.code);
        Object.assign(flow.nodes.find((x) => x.name === 'Verify OTP')!, { credentials: { temporalOtpApi: s.creds }, onError });
        flow.nodes.push({ id: 'err', name: 'On Error', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [480, 300], parameters: {} });
        if (onError === 'continueErrorOutput') (flow.connections['Verify OTP'].main as unknown[][]).push([{ node: 'On Error', type: 'main', index: 0 }]);
        await n8n.importWorkflows([flow]);
        // With "Stop Workflow" an error ends the execution: n8n prints no run data, and nothing ran after the node.
        const run = await n8n.execute(id).catch((err: Error) => err);
        const what = `${s.name}, On Error: ${onError}`;
        if (run instanceof Error) {
          expect({ what, stopped: onError === 'stopWorkflow' && s.error !== undefined }).toEqual({ what, stopped: true });
          if (s.error) expect(run.message).toMatch(s.error);
          continue;
        }
        expect({ what, valid: run.data.resultData.runData['On Valid'] }).toEqual({ what, valid: undefined });
        expect({ what, out0: output(run, 'Verify OTP', 0) }).toEqual({ what, out0: [] });
        const refused = [...output(run, 'Verify OTP', 1), ...output(run, 'Verify OTP', 2)];
        expect(refused).toEqual([
          expect.objectContaining({
            json: expect.objectContaining(s.error ? { error: expect.stringMatching(s.error) } : { valid: false, outcome: 'invalid_code' }),
          }),
        ]);
      }
    }
    await orphan.terminate('test cleanup');
    // The code was never used up: it still verifies.
    await n8n.importWorkflows([verifyFlow('otpE2eFailClosedOk', phone, code)]);
    expect(output(await n8n.execute('otpE2eFailClosedOk'), 'Verify OTP', 0)).toEqual([
      expect.objectContaining({ json: expect.objectContaining({ valid: true }) }),
    ]);
  },
  15 * 60_000,
);

test(
  'bad input is the flow’s error, named: an empty code (or only dashes), a phone that is no number, an empty phone in Send',
  async () => {
    const cases: [string, ReturnType<typeof verifyFlow> | ReturnType<typeof sendFlow>, string, RegExp][] = [
      ['otpE2eBadInput01', verifyFlow('otpE2eBadInput01', '+33612900004', ' '), 'Verify OTP', /Code is empty/],
      // Dashes and spaces are dropped before comparing: "- -" is empty too, not a wrong code with 0 attempts left.
      ['otpE2eBadInput04', verifyFlow('otpE2eBadInput04', '+33612900004', '- -'), 'Verify OTP', /Code is empty/],
      ['otpE2eBadInput02', verifyFlow('otpE2eBadInput02', 'hello', '123456'), 'Verify OTP', /phone number is invalid/],
      // An expression that evaluates to nothing (a field missing from the item), not an empty field n8n would flag first.
      ['otpE2eBadInput03', sendFlow('otpE2eBadInput03', "={{ $json.phone ?? '' }}"), 'Send OTP', /Phone is empty/],
    ];
    for (const [id, flow, nodeName, message] of cases) {
      Object.assign(flow.nodes.find((n) => n.name === nodeName)!, { onError: 'continueRegularOutput' });
      await n8n.importWorkflows([flow]);
      const run = await n8n.execute(id);
      const items = [...output(run, nodeName, 0), ...output(run, nodeName, 1)];
      expect(items).toEqual([expect.objectContaining({ json: expect.objectContaining({ error: expect.stringMatching(message) }) })]);
      if (nodeName === 'Verify OTP') expect(run.data.resultData.runData['On Valid']).toBeUndefined();
    }
  },
  5 * 60_000,
);

test(
  'one output for AI agents: a wrong and a right code both come out of output 0, with valid, outcome and attempts left',
  async () => {
    const phone = '+33612900005';
    await n8n.importWorkflows([sendFlow('otpE2eSendFlow05', phone)]);
    await n8n.execute('otpE2eSendFlow05');
    const code = codeFrom((await stack.waitForSms(phone))[0].text);
    const wrong = code === '000000' ? '111111' : '000000';
    for (const [id, typed, expected] of [
      ['otpE2eAgentOut01', wrong, { valid: false, outcome: 'invalid_code', attemptsRemaining: 4 }],
      ['otpE2eAgentOut02', code, { valid: true, outcome: 'verified' }],
    ] as const) {
      const flow = verifyFlow(id, phone, typed);
      Object.assign(flow.nodes.find((n) => n.name === 'Verify OTP')!.parameters, { output: 'single' });
      flow.connections['Verify OTP'] = { main: [[{ node: 'On Valid', type: 'main', index: 0 }]] };
      await n8n.importWorkflows([flow]);
      const run = await n8n.execute(id);
      expect(output(run, 'Verify OTP', 0)).toEqual([expect.objectContaining({ json: expect.objectContaining(expected) })]);
    }
  },
  5 * 60_000,
);

/** A Send OTP typeVersion 2 node, Start → Send OTP → Next. */
function sendFlowV2(id: string, parameters: Record<string, unknown>, node: Record<string, unknown> = {}) {
  return {
    id,
    name: `Send v2 ${id}`,
    active: false,
    settings: {},
    nodes: [
      trigger,
      {
        id: 's',
        name: 'Send OTP',
        type: `${PKG}.sendOtp`,
        typeVersion: 2,
        position: [240, 0],
        credentials,
        parameters: { operation: 'send', tenant: stack.config.tenant, ...parameters },
        ...node,
      },
      { id: 'n', name: 'Next', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [480, 0], parameters: {} },
    ],
    connections: { Start: { main: [[{ node: 'Send OTP', type: 'main', index: 0 }]] }, 'Send OTP': { main: [[{ node: 'Next', type: 'main', index: 0 }]] } },
  };
}

test(
  'Send OTP v2: sent and outcome named like Verify OTP’s; the Custom channel only when acknowledged; Include Input Fields; the timeout option',
  async () => {
    const continueOnError = { onError: 'continueRegularOutput' };
    const cases: [string, ReturnType<typeof sendFlowV2>, Record<string, unknown>][] = [
      [
        'otpE2eSendV2Sms01',
        sendFlowV2('otpE2eSendV2Sms01', { phone: '+33612900010' }),
        { sent: true, outcome: 'sent', channel: 'sms', maskedPhone: '+33••••••010' },
      ],
      [
        'otpE2eSendV2Ack01',
        sendFlowV2('otpE2eSendV2Ack01', { phone: '+33612900011', profile: 'fast', channel: 'custom' }, continueOnError),
        { sent: false, outcome: 'error', error: expect.stringMatching(/Accept Code in Saved Executions/) },
      ],
      [
        'otpE2eSendV2Ack02',
        sendFlowV2('otpE2eSendV2Ack02', { phone: '+33612900012', profile: 'fast', channel: 'custom', storedCodeAcknowledged: true, customCodeLength: 8 }),
        { sent: true, outcome: 'sent', channel: 'custom', code: expect.stringMatching(/^\d{8}$/) },
      ],
      [
        // Version 1 flows with the Custom channel are refused too until acknowledged.
        'otpE2eSendV1Ack01',
        {
          ...sendFlowV2(
            'otpE2eSendV1Ack01',
            { phone: '+33612900013', options: { profile: 'fast', channel: 'custom' } },
            { ...continueOnError, typeVersion: 1 },
          ),
        },
        { error: expect.stringMatching(/Accept Code in Saved Executions/) },
      ],
      [
        'otpE2eSendV2Prof01',
        sendFlowV2('otpE2eSendV2Prof01', { phone: '+33612900016', profile: 'no-such-profile' }, continueOnError),
        { sent: false, outcome: 'error', error: expect.stringMatching(/unknown profile "no-such-profile"/) },
      ],
      [
        'otpE2eSendV2Loc01',
        sendFlowV2('otpE2eSendV2Loc01', { phone: '+33612900016', options: { locale: 'de' } }, continueOnError),
        { sent: false, outcome: 'error', error: expect.stringMatching(/unknown locale "de" for profile "login"/) },
      ],
      [
        'otpE2eSendV2Hook01',
        sendFlowV2('otpE2eSendV2Hook01', { phone: '+33612900017', channel: 'webhook' }, continueOnError),
        { sent: false, outcome: 'error', error: expect.stringMatching(/profile "login" has no deliveryWebhookUrl/) },
      ],
      [
        // Temporal unreachable under "Continue": a failed send, never the input passed on as if sent.
        'otpE2eSendV2Dead01',
        sendFlowV2(
          'otpE2eSendV2Dead01',
          { phone: '+33612900014' },
          { ...continueOnError, credentials: { temporalOtpApi: { id: 'otpE2eDeadCred01', name: 'Temporal OTP (unreachable)' } } },
        ),
        { sent: false, outcome: 'error', error: expect.stringMatching(/not reachable/) },
      ],
    ];
    await n8n.importCredentials([
      {
        id: 'otpE2eDeadCred01',
        name: 'Temporal OTP (unreachable)',
        type: 'temporalOtpApi',
        data: { address: '127.0.0.1:1', namespace: 'default', taskQueue: 'otp', tls: false, hashSecret: '', payloadSecrets: '' },
      },
    ]);
    for (const [id, flow, expected] of cases) {
      await n8n.importWorkflows([flow]);
      const [item, ...more] = output(await n8n.execute(id), 'Send OTP');
      expect({ id, json: item?.json, more }).toEqual({ id, json: expect.objectContaining(expected), more: [] });
      if (expected.outcome === 'sent') expect(item.json).not.toHaveProperty('status');
    }
    expect(await stack.waitForSms('+33612900010')).toHaveLength(1);

    // Include Input Fields: Verify OTP keeps what Send OTP said (expiresAt) beside its own answer; off, it does not.
    for (const [id, include] of [
      ['otpE2eInclude01', true],
      ['otpE2eInclude02', false],
    ] as const) {
      const flow = sendFlowV2(id, { phone: '+33612900010' });
      flow.nodes[2] = {
        id: 'v',
        name: 'Next',
        type: `${PKG}.verifyOtp`,
        typeVersion: 1,
        position: [480, 0],
        credentials,
        parameters: {
          verifyBy: 'phone',
          phone: '+33612900010',
          code: '000000',
          tenant: stack.config.tenant,
          output: 'single',
          options: { includeInputFields: include },
        },
      } as never;
      await n8n.importWorkflows([flow]);
      const [item] = output(await n8n.execute(id), 'Next');
      expect(item.json).toMatchObject({ valid: false });
      expect('expiresAt' in item.json).toBe(include);
    }

    // "Continue (using error output)": a failed send leaves on the error output, never on the success one.
    const errorOut = sendFlowV2(
      'otpE2eSendV2ErrOut',
      { phone: '+33612900018' },
      { onError: 'continueErrorOutput', credentials: { temporalOtpApi: { id: 'otpE2eDeadCred01', name: 'Temporal OTP (unreachable)' } } },
    );
    await n8n.importWorkflows([errorOut]);
    const errorRun = await n8n.execute('otpE2eSendV2ErrOut');
    expect(output(errorRun, 'Send OTP', 0)).toEqual([]);
    expect(output(errorRun, 'Send OTP', 1)).toEqual([expect.objectContaining({ json: { error: expect.stringMatching(/not reachable/) } })]);
    expect(errorRun.data.resultData.runData.Next).toBeUndefined();

    // A 1 s timeout with no worker polling: the item fails with the cause, well before the 10 s default.
    const idle = { id: 'otpE2eIdleCred02', name: 'Temporal OTP (no worker, v2)' };
    await n8n.importCredentials([
      {
        ...idle,
        type: 'temporalOtpApi',
        data: { address: temporalAddress(), namespace: 'default', taskQueue: 'otp-nobody-polls-v2', tls: false, hashSecret: '', payloadSecrets: '' },
      },
    ]);
    await n8n.importWorkflows([
      sendFlowV2('otpE2eTimeout01', { phone: '+33612900015', options: { timeoutSeconds: 1 } }, { ...continueOnError, credentials: { temporalOtpApi: idle } }),
    ]);
    const timedOut = await n8n.execute('otpE2eTimeout01');
    expect(output(timedOut, 'Send OTP')[0].json).toMatchObject({
      sent: false,
      outcome: 'error',
      error: expect.stringMatching(/no OTP worker is polling task queue 'otp-nobody-polls-v2'/),
    });
    const took = (timedOut.data.resultData.runData['Send OTP'][0] as { executionTime?: number }).executionTime ?? 0;
    expect(took).toBeLessThan(8000);
  },
  10 * 60_000,
);
