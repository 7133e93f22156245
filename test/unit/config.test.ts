import { mkdtempSync, writeFileSync } from 'node:fs';
import { withSettingsTable } from '../../scripts/settings-doc';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MAX_CACHED_WORKFLOWS, DEFAULT_STICKY_TIMEOUT_MS, loadConfig, SETTINGS, settingsTable } from '../../config/config';

describe('loadConfig', () => {
  test('defaults describe the embedded stack', () => {
    const c = loadConfig({});
    expect(c.temporal).toEqual({ address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'otp' });
    expect(c.smsc).toMatchObject({ host: '127.0.0.1', port: 2775, systemId: 'otp', password: 'secret', binds: 1, senderId: 'OTPDemo' });
    expect(c.usingDevKeys).toBe(true);
  });

  test.each([
    [{ SMSC_PORT: 'abc' }, /SMSC_PORT must be an integer from 1 to 65535 \(got "abc"\)/],
    [{ SMSC_PORT: '70000' }, /SMSC_PORT/],
    [{ TEMPORAL_ADDRESS: 'localhost' }, /TEMPORAL_ADDRESS must look like host:port/],
    [{ SMSC_PASSWORD: 'muchtoolong' }, /SMSC_PASSWORD must be at most 8/],
    [{ OTP_SENDER_ID: 'This sender is far too long' }, /OTP_SENDER_ID/],
    [{ OTP_HASH_KEY: 'short' }, /OTP_HASH_KEY must be at least 16/],
    [{ OTP_PAYLOAD_KEYS: 'k:AAAA' }, /OTP_PAYLOAD_KEYS: payload key "k" must be 32 bytes/],
    [{ OTP_DEFAULT_REGION: 'France' }, /OTP_DEFAULT_REGION/],
    [{ SMSC_BINDS: '0' }, /SMSC_BINDS/],
  ])('a malformed setting %p fails naming it', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  test('production refuses to run on dev keys, naming every missing one', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(
      'OTP_CODE_KEY, OTP_HASH_KEY, OTP_PAYLOAD_KEYS, OTP_CALLBACK_KEY, OTP_SEAL_PRIVATE_KEY are required when NODE_ENV=production',
    );
    expect(() => loadConfig({ NODE_ENV: 'production', OTP_HASH_KEY: 'h'.repeat(20) }, 'client')).toThrow(
      'OTP_PAYLOAD_KEYS, OTP_SEAL_PUBLIC_KEY are required when NODE_ENV=production',
    );
    const payload = `k:${Buffer.alloc(32).toString('base64')}`;
    const worker = loadConfig({});
    const client = loadConfig(
      { NODE_ENV: 'production', OTP_HASH_KEY: 'h'.repeat(20), OTP_PAYLOAD_KEYS: payload, OTP_SEAL_PUBLIC_KEY: worker.keys.sealPublic },
      'client',
    );
    // Clients hold no code key and no seal private key: nothing they have opens or tests a code.
    expect(client.keys.code).toEqual([]);
    expect(client.keys.sealPrivate).toEqual([]);
    expect(client.usingDevKeys).toBe(false);
  });

  test('the seal public key must match the private key, and previous keys are listed after the current one', () => {
    const worker = loadConfig({ OTP_CODE_KEY: 'c'.repeat(20), OTP_CODE_KEY_PREVIOUS: 'o'.repeat(20), OTP_HASH_KEY_PREVIOUS: 'p'.repeat(20) });
    expect(worker.keys.code).toEqual(['c'.repeat(20), 'o'.repeat(20)]);
    expect(worker.keys.hash.slice(1)).toEqual(['p'.repeat(20)]);
    expect(() => loadConfig({ OTP_SEAL_PUBLIC_KEY: 'AAAA' })).toThrow(/OTP_SEAL_PUBLIC_KEY is not the public key/);
    expect(() => loadConfig({ OTP_SEAL_PRIVATE_KEY: 'bm90IGEga2V5' })).toThrow(/OTP_SEAL_PRIVATE_KEY must be base64/);
    expect(() => loadConfig({ OTP_CODE_KEY_PREVIOUS: 'short' })).toThrow(/OTP_CODE_KEY_PREVIOUS: every key must be at least 16/);
    expect(() => loadConfig({ OTP_OUTBOUND_ALLOW: '10.0.0.1/8' })).toThrow(/OTP_OUTBOUND_ALLOW/);
  });

  test('metrics are off by default; the SDK exporter takes the next port unless named', () => {
    expect(loadConfig({}).metrics).toEqual({ port: 0, host: '127.0.0.1', sdkPort: 0 });
    expect(loadConfig({ OTP_METRICS_PORT: '9464' }).metrics).toEqual({ port: 9464, host: '127.0.0.1', sdkPort: 9465 });
    expect(loadConfig({ OTP_METRICS_PORT: '9464', OTP_SDK_METRICS_PORT: '9999', OTP_METRICS_HOST: '0.0.0.0' }).metrics).toEqual({
      port: 9464,
      host: '0.0.0.0',
      sdkPort: 9999,
    });
    expect(() => loadConfig({ OTP_METRICS_PORT: '9464', OTP_SDK_METRICS_PORT: '9464' })).toThrow(/OTP_SDK_METRICS_PORT must differ from OTP_METRICS_PORT/);
    expect(() => loadConfig({ OTP_METRICS_PORT: 'x' })).toThrow(/OTP_METRICS_PORT must be an integer/);
  });

  test("the worker's workflow cache is bounded by default, and a bound the SDK cannot take is refused by name", () => {
    expect(loadConfig({}).maxCachedWorkflows).toBe(DEFAULT_MAX_CACHED_WORKFLOWS);
    expect(loadConfig({ OTP_MAX_CACHED_WORKFLOWS: '2000' }).maxCachedWorkflows).toBe(2000);
    // Core runs no more workflow tasks at once than the cache holds: a small cache would throttle the worker.
    expect(() => loadConfig({ OTP_MAX_CACHED_WORKFLOWS: '40' })).toThrow(/OTP_MAX_CACHED_WORKFLOWS/);
    expect(() => loadConfig({ OTP_MAX_CACHED_WORKFLOWS: 'lots' })).toThrow(/OTP_MAX_CACHED_WORKFLOWS must be an integer/);
    // A crashed worker's sessions move to another worker after this, well inside the clients' 10 s call timeout.
    expect(loadConfig({}).stickyTimeoutMs).toBe(DEFAULT_STICKY_TIMEOUT_MS);
    expect(() => loadConfig({ OTP_STICKY_TIMEOUT_MS: '10' })).toThrow(/OTP_STICKY_TIMEOUT_MS/);
  });

  test('reads one JSON file; the environment wins over it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'otp-config-'));
    const file = join(dir, 'otp.json');
    writeFileSync(file, JSON.stringify({ SMSC_HOST: 'smsc.example', SMSC_PORT: 2776, OTP_BRAND: 'FromFile' }));
    const c = loadConfig({ OTP_CONFIG_FILE: file, OTP_BRAND: 'FromEnv' });
    expect(c.smsc.host).toBe('smsc.example');
    expect(c.smsc.port).toBe(2776);
    expect(c.brand).toBe('FromEnv');
  });

  test('a config file with an unknown key or bad JSON fails naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'otp-config-'));
    const unknown = join(dir, 'unknown.json');
    writeFileSync(unknown, JSON.stringify({ SMSC_HOTS: 'x' }));
    expect(() => loadConfig({ OTP_CONFIG_FILE: unknown })).toThrow(/unknown setting "SMSC_HOTS"/);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{');
    expect(() => loadConfig({ OTP_CONFIG_FILE: broken })).toThrow(/broken.json is not valid JSON/);
    expect(() => loadConfig({ OTP_CONFIG_FILE: join(dir, 'missing.json') })).toThrow(/cannot read .*missing.json: ENOENT/);
  });
});

test('docs/configuration.md holds the settings table generated from SETTINGS (npm run docs:settings)', () => {
  const doc = require('node:fs').readFileSync(join(__dirname, '..', '..', 'docs', 'configuration.md'), 'utf8') as string;
  expect(withSettingsTable(doc)).toBe(doc);
  expect(doc).toContain(settingsTable());
});

test('docs/configuration.md documents every setting', () => {
  const readme = require('node:fs').readFileSync(join(__dirname, '..', '..', 'docs', 'configuration.md'), 'utf8') as string;
  for (const name of Object.keys(SETTINGS)) expect(readme).toContain(`| \`${name}\` |`);
});
