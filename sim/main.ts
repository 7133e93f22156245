/**
 * Standalone SMSC simulator: `npm run smsc`.
 * Env: SIM_SMPP_PORT (2775), SIM_HTTP_PORT (2780), SIM_SMTP_PORT (2525), SIM_RECEIPT_DELAY_MS (50),
 * SMSC_SYSTEM_ID / SMSC_PASSWORD (otp / secret): the account it accepts.
 */
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

async function main(): Promise<void> {
  const sim = new SmscSimulator({
    smppPort: intEnv('SIM_SMPP_PORT', 2775),
    httpPort: intEnv('SIM_HTTP_PORT', 2780),
    smtpPort: intEnv('SIM_SMTP_PORT', 2525),
    receiptDelayMs: intEnv('SIM_RECEIPT_DELAY_MS', 50),
    accounts: { [process.env.SMSC_SYSTEM_ID || 'otp']: process.env.SMSC_PASSWORD || 'secret' },
  });
  await sim.start();
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
