/**
 * Prints latency figures for the OTP path on this machine: from the send
 * call to the SMS in the handset's inbox, the send call itself, and verify.
 */
import { startLocalStack } from '../lib/local-stack';
import { Runtime, DefaultLogger } from '@temporalio/worker';

const SENDS = Number(process.env.BENCH_SENDS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
function report(name: string, values: number[]): void {
  const s = [...values].sort((a, b) => a - b);
  const f = (n: number) => `${n.toFixed(1)} ms`;
  console.log(`${name.padEnd(26)} n=${s.length}  p50 ${f(pct(s, 50))}  p95 ${f(pct(s, 95))}  p99 ${f(pct(s, 99))}  max ${f(s[s.length - 1])}`);
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const stack = await startLocalStack({ env: { OTP_TASK_QUEUE: 'otp-bench' } });
  const { sim, otp } = stack;
  const toInbox: number[] = [];
  const sendCall: number[] = [];
  const verifyCall: number[] = [];
  try {
    // Warm-up: first workflow tasks pay for caches.
    await otp.send('+33699000000');
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < SENDS) {
          const i = next++;
          const phone = `+336${String(10000000 + i).slice(-8)}`;
          const start = performance.now();
          const wallStart = Date.now();
          const sent = await otp.send(phone);
          sendCall.push(performance.now() - start);
          for (;;) {
            const msgs = sim.messages(phone);
            if (msgs.length) {
              toInbox.push(Date.parse(msgs[0].receivedAt) - wallStart);
              const code = /code is (\d+)/.exec(msgs[0].text)![1];
              const v0 = performance.now();
              const result = await otp.verify(phone, code);
              verifyCall.push(performance.now() - v0);
              if (!result.valid) throw new Error(`verify failed for ${sent.sessionId}: ${result.outcome}`);
              break;
            }
            await new Promise((r) => setTimeout(r, 1));
          }
        }
      }),
    );
    const secs = (performance.now() - t0) / 1000;
    console.log(`\n${SENDS} sessions, concurrency ${CONCURRENCY}, ${(SENDS / secs).toFixed(1)} send+verify per second\n`);
    report('send -> SMS in inbox', toInbox);
    report('send call (update)', sendCall);
    report('verify call (update)', verifyCall);
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
