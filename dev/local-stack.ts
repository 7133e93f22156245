/**
 * A whole OTP stack in one process: the SMSC simulator on free loopback ports,
 * a worker and a typed client, against a Temporal server you give (or a dev
 * server it starts). Used by the tests and the history recorder.
 */
import { connectOtpClient, type OtpClient } from '../client';
import { SmscSimulator, type SimulatorOptions } from '../sim/smsc-simulator';
import { startWorker, type OtpWorkerOverrides, type RunningOtpWorker } from '../worker';
import { loadConfig, type Env, type OtpConfig } from '../config/config';
import { startDevServer, type DevServer } from './temporal-server';

export interface LocalStack {
  sim: SmscSimulator;
  worker: RunningOtpWorker;
  otp: OtpClient;
  config: OtpConfig;
  /** Set when the stack started its own dev server. */
  server?: DevServer;
  stop(): Promise<void>;
}

export interface LocalStackOptions {
  /** Temporal frontend to use; without it a headless dev server is started. */
  temporalAddress?: string;
  /** Settings on top of the simulator's ports (see config/config.ts). */
  env?: Env;
  sim?: SimulatorOptions;
  worker?: OtpWorkerOverrides;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const server = options.temporalAddress ? undefined : await startDevServer({ port: 0, headless: true });
  const sim = new SmscSimulator({ smppPort: 0, httpPort: 0, smtpPort: 0, quiet: true, ...options.sim });
  await sim.start();
  const cleanUp = async () => {
    await sim.stop();
    await server?.stop();
  };
  let config: OtpConfig;
  let worker: RunningOtpWorker;
  try {
    config = loadConfig({
      TEMPORAL_ADDRESS: options.temporalAddress ?? server!.address,
      SMSC_PORT: String(sim.smppPort),
      SMTP_PORT: String(sim.smtpPort ?? 2525),
      // A development stack: no approval step unless the caller asks for one.
      OTP_SENDER_APPROVAL: 'off',
      ...options.env,
    });
    worker = await startWorker(config, options.worker);
    await worker.smsc.ready(10_000);
  } catch (err) {
    await cleanUp();
    throw err;
  }
  const otp = await connectOtpClient(config);
  return {
    sim,
    worker,
    otp,
    config,
    server,
    async stop() {
      await worker.shutdown();
      await otp.temporal.connection.close();
      await cleanUp();
    },
  };
}
