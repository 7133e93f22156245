/**
 * Screenshots the Temporal Web UI listing sessions filtered by a search
 * attribute, beside one of them with its payloads decoded by the codec server,
 * in Debian's headless Chromium (apt-get install chromium). Run against a live
 * `npm start` after a few sends and verifies:
 *
 *   node dist/scripts/screenshot-search.js [query] [out.png]
 *   default query: OtpStatus = "verified"; TEMPORAL_UI_URL (http://localhost:8233), TEMPORAL_NAMESPACE (default)
 */
import { withChromiumPage } from '../dev/chromium';
import { OTP_SEARCH_ATTRIBUTES } from '../contract';

async function main(): Promise<void> {
  const [query = `${OTP_SEARCH_ATTRIBUTES.status.name} = "verified"`, out = 'docs/web-ui-search.png'] = process.argv.slice(2);
  const ui = process.env.TEMPORAL_UI_URL || 'http://localhost:8233';
  const namespace = process.env.TEMPORAL_NAMESPACE || 'default';
  await withChromiumPage({ width: 1500, height: 760 }, async (page) => {
    await page.goto(`${ui}/namespaces/${namespace}/workflows?query=${encodeURIComponent(query)}`, { waitUntil: 'load' });
    const first = page.locator('a[href*="/workflows/otp-"]').first();
    await first.waitFor({ timeout: 20_000 });
    await page.waitForTimeout(1000);
    const list = await page.screenshot();
    // The first session of the list, its input and result decrypted by the codec server.
    await first.click();
    await page.getByText('maskedPhone').first().waitFor({ timeout: 20_000 });
    await page.waitForTimeout(1500);
    const detail = await page.screenshot();
    // One picture: the filtered list above the decoded session.
    const img = (png: Buffer, caption: string) =>
      `<figure><figcaption>${caption}</figcaption><img src="data:image/png;base64,${png.toString('base64')}"></figure>`;
    await page.setViewportSize({ width: 1500, height: 1600 });
    await page.setContent(
      `<style>body{margin:0;background:#fff;font:15px sans-serif}figure{margin:0 0 8px}figcaption{padding:6px 10px;background:#1e293b;color:#fff}img{display:block;width:1500px}</style>` +
        img(list, `Workflows filtered by search attribute: ${query.replace(/</g, '&lt;')}`) +
        img(detail, 'The first of them: input and result decoded through the codec server (no full number, no code)'),
    );
    await page.screenshot({ path: out, fullPage: true });
  });
  console.log(`saved ${out}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
