/**
 * Standalone SMSC simulator: `npm run smsc [-- --carrier-mix undeliv=0.10,silent=0.05,delay=1-3s]`.
 * Env: SIM_SMPP_PORT (2775), SIM_HTTP_PORT (2780), SIM_SMTP_PORT (2525), SIM_RECEIPT_DELAY_MS (50),
 * SIM_CARRIER_MIX (none; the flag wins), SMSC_SYSTEM_ID / SMSC_PASSWORD (otp / secret): the account it accepts.
 */
import { parseArgs } from 'node:util';
import { formatCarrierMix, parseCarrierMix, type CarrierMix } from './carrier-mix';
import { SmscSimulator } from './smsc-simulator';

function intEnv(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`smsc-sim: ${name} must be an integer from 0 to 65535 (got "${v}")`);
    process.exit(2);
  }
  return n;
}

/** --carrier-mix, else SIM_CARRIER_MIX; a bad mix stops here with the parser's message. */
function carrierMix(): CarrierMix | null {
  const { values } = parseArgs({ options: { 'carrier-mix': { type: 'string' } }, strict: true });
  const spec = values['carrier-mix'] ?? process.env.SIM_CARRIER_MIX;
  if (spec === undefined || spec === '') return null;
  try {
    return parseCarrierMix(spec);
  } catch (err) {
    console.error(`smsc-sim: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const mix = carrierMix();
  const sim = new SmscSimulator({
    smppPort: intEnv('SIM_SMPP_PORT', 2775),
    httpPort: intEnv('SIM_HTTP_PORT', 2780),
    smtpPort: intEnv('SIM_SMTP_PORT', 2525),
    receiptDelayMs: intEnv('SIM_RECEIPT_DELAY_MS', 50),
    accounts: { [process.env.SMSC_SYSTEM_ID || 'otp']: process.env.SMSC_PASSWORD || 'secret' },
    carrierMix: mix,
  });
  await sim.start();
  if (mix) console.log(`[smsc-sim] carrier mix: ${formatCarrierMix(mix)}`);
  const stop = () => {
    void sim.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  console.error('smsc-sim: fatal:', err instanceof Error ? err.message : err);
  process.exit(1);
});
