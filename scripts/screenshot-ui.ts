/**
 * Screenshots a session in the Temporal Web UI with Debian's headless Chromium
 * (apt-get install chromium). Run against a live `npm start`:
 *
 *   npm run otp -- send +33612345678   # then verify it, so all steps show
 *   node dist/scripts/screenshot-ui.js <workflowId> [docs/web-ui-session.png]
 */
import { withChromiumPage } from '../dev/chromium';

async function main(): Promise<void> {
  const [workflowId, out = 'docs/web-ui-session.png'] = process.argv.slice(2);
  if (!workflowId) {
    console.error('usage: screenshot-ui <workflowId> [out.png]');
    process.exit(2);
  }
  const ui = process.env.TEMPORAL_UI_URL || 'http://localhost:8233';
  await withChromiumPage({ width: 1500, height: 1000 }, async (page) => {
    await page.goto(`${ui}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`, { waitUntil: 'load' });
    await page.getByText('deliveryReceipt').first().waitFor({ timeout: 20_000 });
    await page.waitForTimeout(1500);
    await page.screenshot({ path: out });
  });
  console.log(`saved ${out}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
