/**
 * Opens the real n8n editor in headless Chromium with an example flow loaded
 * and saves a screenshot: `npm run screenshot:n8n` (needs Debian's chromium).
 * n8n comes from the same cached install as the end-to-end test; this package
 * is packed and installed into a throwaway user folder as a community package.
 *
 *   node dist/scripts/screenshot-n8n.js [flow-id] [out.png]
 *   flow ids: otpExampleVerifyEp (default), otpExample2faLogin, otpExampleCustomCh
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withChromiumPage } from '../dev/chromium';
import { ROOT, setUpN8n } from '../dev/n8n-harness';

async function main(): Promise<void> {
  const [flowId = 'otpExampleVerifyEp', out = join(ROOT, 'docs', 'n8n-editor.png')] = process.argv.slice(2);
  const n8n = await setUpN8n();
  await n8n.importCredentials([
    {
      id: 'temporalOtpCred01',
      name: 'Temporal OTP API account',
      type: 'temporalOtpApi',
      data: { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'otp', tls: false },
    },
  ]);
  const examples = join(ROOT, 'examples', 'n8n');
  await n8n.importWorkflows(
    readdirSync(examples)
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(join(examples, f), 'utf8'))),
  );

  const server = await n8n.startServer();
  const base = server.url;
  try {
    await withChromiumPage({ width: 1600, height: 900 }, async (page, context) => {
      const owner = { email: 'builder@example.com', firstName: 'OTP', lastName: 'Builder', password: 'Screenshot-123' };
      const setup = await context.request.post(`${base}/rest/owner/setup`, { data: owner });
      if (!setup.ok()) throw new Error(`owner setup failed: HTTP ${setup.status()} ${await setup.text()}`);
      const login = await context.request.post(`${base}/rest/login`, { data: { emailOrLdapLoginId: owner.email, password: owner.password } });
      if (!login.ok()) throw new Error(`login failed: HTTP ${login.status()} ${await login.text()}`);
      await page.goto(`${base}/workflow/${flowId}`, { waitUntil: 'load' });
      await page.locator('[data-test-id="canvas-node"]').first().waitFor({ timeout: 60_000 });
      await page.waitForTimeout(2500);
      await page.screenshot({ path: out });
    });
    console.log(`saved ${out}`);
  } finally {
    await server.stop();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
