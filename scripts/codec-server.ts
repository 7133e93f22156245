/**
 * Standalone codec server for the Temporal Web UI (`npm run codec-server`).
 * Reads OTP_PAYLOAD_KEYS, OTP_CODEC_PORT, OTP_CODEC_TOKEN, OTP_CODEC_ALLOW_ORIGIN.
 * Point the UI at it with `--ui-codec-endpoint` or in the UI's settings.
 */
import { startCodecServer } from '../lib/codec-server';
import { ConfigError, loadConfig } from '../lib/config';
import { AesGcmPayloadCodec } from '../lib/payload-codec';

async function main(): Promise<void> {
  const config = loadConfig(process.env, 'client');
  const running = await startCodecServer({
    codec: new AesGcmPayloadCodec(config.keys.payload),
    host: process.env.OTP_CODEC_HOST || '127.0.0.1',
    port: config.codecServer.port,
    token: config.codecServer.token,
    allowOrigin: config.codecServer.allowOrigin,
  });
  console.log(`codec server on ${running.url} (POST /decode, /encode) for UI origin ${config.codecServer.allowOrigin}`);
  const stop = () => void running.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(`codec-server: ${err instanceof ConfigError ? 'configuration error: ' : ''}${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
