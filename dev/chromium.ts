import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's headless Chromium as playwright-core launches it here (no browser download is possible). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
/** Background-networking flags matter: without them Chromium keeps dialling hosts this machine cannot reach. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Launches headless Chromium, runs `fn` with a page of the given viewport, and always closes the browser. */
export async function withChromiumPage<T>(viewport: { width: number; height: number }, fn: (page: Page, context: BrowserContext) => Promise<T>): Promise<T> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  try {
    const context = await browser.newContext({ viewport });
    return await fn(await context.newPage(), context);
  } finally {
    await browser.close();
  }
}
