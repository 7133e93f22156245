/** Debian's headless Chromium as playwright-core launches it here (no browser download is possible). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
/** Background-networking flags matter: without them Chromium keeps dialling hosts this machine cannot reach. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
