/**
 * Audit export: one line per send of a tenant in a time window, to stdout.
 *
 *   npm run audit -- --tenant T --from 2026-11-27T00:00:00Z --to 2026-11-28T00:00:00Z [--format jsonl|csv] [--id-key KEY]
 *
 * Settings (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, OTP_PAYLOAD_KEYS, OTP_HASH_KEY) come from the same
 * environment / OTP_CONFIG_FILE as the otp CLI. Exit codes: 0 done, 1 failed or sessions skipped, 2 bad arguments.
 */
import { Client, Connection } from '@temporalio/client';
import { AesGcmPayloadCodec } from '../codec/payload-codec';
import { exportAudit, temporalAuditSource } from '../audit/export';
import { AuditUsageError, parseAuditArgs } from '../audit/options';
import { ConfigError, loadConfig } from '../config/config';

/** Writes to stdout and waits for it to drain when its buffer is full (a slow pipe must not grow memory). */
function writeOut(chunk: string): Promise<void> | void {
  if (process.stdout.write(chunk)) return;
  return new Promise((resolve) => process.stdout.once('drain', resolve));
}

// `npm run audit … | head` closes the pipe early: that is the reader's choice, not a failure.
process.stdout.on('error', (err: NodeJS.ErrnoException) => process.exit(err.code === 'EPIPE' ? 0 : 1));

async function main(): Promise<number> {
  const config = loadConfig(process.env, 'client');
  const options = parseAuditArgs(process.argv.slice(2), config.keys.hash);
  const connection = await Connection.connect({ address: config.temporal.address });
  try {
    // Listings decode each session's memo (encrypted): one under a key no longer held must not stop the export.
    const client = new Client({
      connection,
      namespace: config.temporal.namespace,
      dataConverter: { payloadCodecs: [new AesGcmPayloadCodec(config.keys.payload, { unreadable: 'refuse' })] },
    });
    const summary = await exportAudit({
      ...options,
      source: temporalAuditSource(client),
      payloadKeys: config.keys.payload,
      write: writeOut,
      onSkip: (sessionId, reason) => console.error(JSON.stringify({ skipped: sessionId, reason })),
    });
    console.error(JSON.stringify(summary));
    return summary.skipped > 0 ? 1 : 0;
  } finally {
    await connection.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof AuditUsageError) {
      console.error(JSON.stringify({ error: err.name, problem: err.problem, message: err.message }));
      process.exit(2);
    }
    const message = err instanceof Error ? err.message : String(err);
    const hint = /connect|ECONNREFUSED|unavailable/i.test(message) ? ' (is Temporal reachable at TEMPORAL_ADDRESS?)' : '';
    console.error(JSON.stringify({ error: err instanceof ConfigError ? err.name : 'Error', message: message + hint }));
    process.exit(1);
  },
);
