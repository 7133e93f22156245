/**
 * Standalone codec server for the Temporal Web UI (`npm run codec-server`).
 * Reads OTP_PAYLOAD_KEYS, OTP_CODEC_HOST, OTP_CODEC_PORT, OTP_CODEC_TOKEN, OTP_CODEC_ALLOW_ORIGIN.
 * Point the UI at it with `--ui-codec-endpoint` or in the UI's settings:
 * with a token, the endpoint is http://host:port/<token> (the UI cannot send a static header).
 */
import { CodecServerConfigError, startCodecServer } from '../codec/codec-server';
import { ConfigError, loadConfig } from '../config/config';
import { AesGcmPayloadCodec } from '../codec/payload-codec';

async function main(): Promise<void> {
  const config = loadConfig(process.env, 'client');
  const running = await startCodecServer({
    codec: new AesGcmPayloadCodec(config.keys.payload, { plaintext: 'pass' }),
    host: process.env.OTP_CODEC_HOST || '127.0.0.1',
    port: config.codecServer.port,
    token: config.codecServer.token,
    allowOrigin: config.codecServer.allowOrigin,
    allowEncode: config.codecServer.allowEncode,
  });
  // The token is a secret: print where it goes, not its value.
  const endpoint = config.codecServer.token ? `${running.url}/<OTP_CODEC_TOKEN>` : running.url;
  console.log(`codec server on ${running.url} for UI origin ${config.codecServer.allowOrigin}; Web UI codec endpoint: ${endpoint}`);
  if (config.codecServer.token) console.log('CLI and SDKs may instead send "Authorization: Bearer <OTP_CODEC_TOKEN>" to /decode and /encode');
  const stop = () => void running.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  const configuration = err instanceof ConfigError || err instanceof CodecServerConfigError;
  console.error(`codec-server: ${configuration ? 'configuration error: ' : ''}${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
