/**
 * Worker and client settings: environment variables, or one JSON config file
 * (OTP_CONFIG_FILE) whose keys are the same names. The environment wins over
 * the file. Every default works for the embedded stack (`npm start`). A missing
 * or malformed setting fails at start-up with a message that names it.
 */
import { isEmailAddress } from '../policy/email';
import { readFileSync } from 'node:fs';
import { DEFAULT_TASK_QUEUE, DEFAULT_TENANT } from '../contract';
import { parsePayloadKeys, type PayloadKey } from '../codec/payload-codec';
import { PolicyError } from '../policy/profile';
import { ProfileStore } from '../policy/store';
import type { RouteConfig } from '../smpp/smsc';
import { BIND_DEFAULTS, BIND_RANGES } from '../smpp/bind-defaults';
import { parseRoutes, RouteConfigError } from './routes-config';
import { DEFAULT_OTP_WORKERS } from '../smpp/account-share';
import { parseSealPublicKey } from '../contract/keys';
import {
  DEFAULT_TEMPORAL_ADDRESS,
  DEFAULT_TEMPORAL_NAMESPACE,
  DEV_HASH_KEY,
  DEV_PAYLOAD_KEYS,
  DEV_SEAL_PUBLIC_KEY,
  MIN_SECRET_LENGTH,
  TEMPORAL_ADDRESS_PATTERN,
  TEMPORAL_ADDRESS_RULE,
} from './client-settings';
import { SENDER_ID_RULE, senderKind } from '../contract/sender-id';
import { SealOpener } from '../activities/code';
import { checkUrl, parseOutboundPolicy, type OutboundPolicy } from '../policy/destination';
import { parseKeywords } from '../smpp/mo';
import { DEFAULT_MAX_SEND_WAIT_MS, DEFAULT_MAX_SENDS_IN_FLIGHT } from '../activities/admission';
import { DEFAULT_RECEIPT_HOLD_MS, DEFAULT_RECEIPT_LINK_AFTER_MS } from '../activities/receipt-links';
import { DEFAULT_VELOCITY_SHARDS, DEFAULT_VELOCITY_SYNC_MS } from '../activities/velocity-gate';
import { DEFAULT_SUPPRESSION_SYNC_MS } from '../activities/suppression-list';
import { DEFAULT_SENDER_APPROVAL_SYNC_MS } from '../activities/sender-approvals';
import type { SenderApprovalMode } from '../policy/approval';
import { DEFAULT_CLIENT_MAX_SENDS_IN_FLIGHT, DEFAULT_CLIENT_SEND_TARGET_MS } from '../client/send-limiter';
import { DEFAULT_WORKER_ALLOCATOR, WORKER_ALLOCATORS, WorkerAllocatorError, workerAllocator, type WorkerAllocator } from '../lib/worker-node-flags';

/**
 * Workflow runs a worker keeps cached. 500 keeps the RSS target (≤ 400 MB) at steady state: the SDK's default
 * (~2,300 on a 4 GB heap) reached 628 MB at 12/s. A session evicted before its verify replays its history from the
 * server: verify p50 200 ms instead of 32 ms, measured with a cache of 20.
 */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 500;

/**
 * 3 s, not Temporal's 10 s: after a worker crash the verifies and receipts of its cached sessions wait this long
 * (a 10 s wait met the clients' 10 s call timeout). A live worker takes its tasks well within it, even at 2× overload.
 */
export const DEFAULT_STICKY_TIMEOUT_MS = 3000;

/** @default STOP,STOPALL,UNSUBSCRIBE,CANCEL,END,QUIT (the CTIA / US carrier set) */
export const DEFAULT_STOP_KEYWORDS = 'STOP,STOPALL,UNSUBSCRIBE,CANCEL,END,QUIT';
/** @default START,UNSTOP */
export const DEFAULT_START_KEYWORDS = 'START,UNSTOP';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Kind = 'string' | 'port' | 'count' | 'secret' | 'region' | 'payloadKeys' | 'ms';

interface Setting {
  kind: Kind;
  default?: string;
  /** The default column of docs/configuration.md when the raw default would mislead (Markdown). @default the default in backticks, or "empty" */
  shownDefault?: string;
  /** The meaning column of docs/configuration.md (Markdown). */
  doc: string;
}

/** Dev-only keys: fine for the embedded stack, refused when NODE_ENV=production (the ones clients hold: client-settings.ts). */
const DEV_CODE_KEY = 'dev-only-code-key-change-me-0000000000';
const DEV_CALLBACK_KEY = 'dev-only-callback-key-change-me-0000';
/** Private half of the dev-only RSA-2048 pair that seals codes for the embedded stack. */
const DEV_SEAL_PRIVATE_KEY =
  'MIIEvwIBADANBgkqhkiG9w0BAQEFAASCBKkwggSlAgEAAoIBAQDGipWP9T3gRYK+jIFLeBnd+PHFSzkgTC0fOcS1IndWP0MpX6Up' +
  'NlepswfkHnVuwaGA/8OBi0pPZzRVTIpnECN/eBAqlWRYpAUCmbPHUCwJONC77lcbpWaiJv5zK2jd0MFX1Hk5hvTDkkqFSLasteYX' +
  'R8ZzvND93FhHInMSzFfJXwNUAIHU0+lvpDYrWf+xnNVDBP401+DUB6lEdF9/DFAWAdIsFhFUlkwpv6bDKC3CP+rtDKXydsxE82a6' +
  'PmOCnXa7c2Hnuy0ZBghQs3dNZKs4VD9KVJlyL3LECtJe/SLhOT2g8hkXkB9nc7e9XBR2Sc7Y1LwS+BVhTT/1AN1LV+4HAgMBAAEC' +
  'ggEAGXbNzuxn1rtjlPflX14Uhz02GRVYStWqVd5tZcP5ZVTw0r4jK0F+hdPh97aWXjG0epyTISrRyZRViHksKSLPQrqN7EBD4gCL' +
  'afV3suEL/NTOJMRhZLjWjIaOzQusxAJRweeM8r1l6C17pFOaplUgIS1B/Tci4ORhaCI5exg9TCTK1JG/BSPbLDfbWsFYrSb0+wBz' +
  'RE/AuenAOo/NR2vWg7w5RGPQ33ZrVAIXeGVfJwUTCtcFc0LxX7bMbUUbSMUTOZhKb4nqN2JQKmuXwTN7oLO6JlPqB7czkr7LRwmq' +
  'iJ9vKNO1mTwuSpXKeoK9vKMKYm0CYIVUq3V7AyD4R7W1aQKBgQD7rHVzWO2ej3t6YN7EdIV5AI/Yq/Q9SNFx7yQrksYb9vxtfenp' +
  'nXi3FWik2BdcU08TJBnA1VeDubv5W8JlqNrxROvwhhY3mN/rP2gGIyUTUFshjD5zaPOWZ84RhwsWBt614WmPDyMnT5jphDDBL6X9' +
  'ZPwFTPuEDZI98B68xjkGCQKBgQDJ9E5LK+j2jiO4polw+o42PHmdke8iipKpabAF5ZH+9SLvjrGD2ilrxIwEan/cMA6U4AxFe+Pb' +
  '7prwUEpsIu9t4nsTpGybbq5rQcIIifMvEfI80krTtXjbGRXYQRjwzyWO6aSjKTfxqKgMXC/uj5L9jd/oWvEYWJVs/kpCfQzXjwKB' +
  'gQCc4ftxBO1S2xRYzAvxoMUXEa+ZnE8q6LqO8Ei21M6j3gmq40Ot+him4DSUFZQyXEg9oVJgb10XYu93WKjMoD6jCZieHae5zpU+' +
  '2w6oTL4u1PeJ6ReA79pwVpMRQAI8H9oyvKoFoKUEO00Ru/J8aoxpccrcLwnWXnNcItO2T0Z6qQKBgQC9/3t9W2VEOPvAZ+Wchg0v' +
  'V3vvU3GQpKBQhF8XXSEapdPlXvEBJEmd2v8D1JJQPGIrjBHfeSwpKPVZq6Ao1kE9tzqlgyauoNW1kNsUn3xLx22H7Sx6uxtlvdcA' +
  'alYlkC08o/HBkzDPySW44y4xGaBnrYd/GbgDeKu0LBT/MpjXXwKBgQCMfbRCWoCILCGGxwz2KBb7L+8ZrmG5I77ESZLuQIGIqMA1' +
  'jv+FgIfvmMuD1a3BFO5631qbGe6++sFhRbepxhsnDdkQ/939sW7hD2nEeZ4++FqnHLEsP0V7wE1kkSo6eC43E3QcvATpr5drC5Jn' +
  'ASCPbHXBgUdYImuNZrAK2OIOjw==';

export const SETTINGS = {
  TEMPORAL_ADDRESS: {
    kind: 'string',
    default: DEFAULT_TEMPORAL_ADDRESS,
    doc: 'Temporal frontend host:port. For `npm start`, setting it means "use this server, start none".',
  },
  TEMPORAL_NAMESPACE: { kind: 'string', default: DEFAULT_TEMPORAL_NAMESPACE, doc: 'Temporal namespace.' },
  OTP_TASK_QUEUE: { kind: 'string', default: DEFAULT_TASK_QUEUE, doc: 'Task queue the worker polls and clients target.' },
  SMSC_HOST: { kind: 'string', default: '127.0.0.1', doc: 'SMSC host.' },
  SMSC_PORT: { kind: 'port', default: '2775', doc: 'SMSC SMPP port.' },
  SMSC_SYSTEM_ID: { kind: 'string', default: 'otp', doc: 'SMPP system_id (≤ 15 characters).' },
  SMSC_PASSWORD: { kind: 'string', default: 'secret', doc: 'SMPP password (≤ 8 characters in SMPP 3.4).' },
  SMSC_SYSTEM_TYPE: { kind: 'string', default: '', doc: 'SMPP system_type.' },
  SMSC_BINDS: { kind: 'count', default: '1', doc: 'Binds of each kind the worker opens (1–32).' },
  SMSC_NAME: { kind: 'string', default: 'smsc', doc: 'Name of the SMSC route; part of mailbox workflow ids.' },
  SMSC_RESPONSE_TIMEOUT_MS: { kind: 'ms', default: String(BIND_DEFAULTS.responseTimeoutMs), doc: 'Time allowed for any SMPP response.' },
  SMSC_ENQUIRE_LINK_MS: { kind: 'ms', default: String(BIND_DEFAULTS.enquireLinkMs), doc: 'enquire_link keep-alive period.' },
  SMSC_BIND_MODE: { kind: 'string', default: 'transceiver', doc: '`transceiver`, or `transmitter+receiver` for separate binds.' },
  SMSC_WINDOW: { kind: 'count', default: String(BIND_DEFAULTS.window), doc: 'Outstanding submit_sm allowed per bind.' },
  SMSC_TPS: { kind: 'count', default: '50', doc: 'submit_sm per second for the connection; 0 = unlimited.' },
  SMSC_TLS: { kind: 'string', default: 'false', doc: '`true` for SMPP over TLS.' },
  SMSC_TLS_CA_FILE: { kind: 'string', default: '', doc: "PEM of the CA that signed the SMSC's certificate (default: the system CAs)." },
  SMSC_ROUTES: {
    kind: 'string',
    default: '',
    doc: 'Several SMSC connections as a JSON array (see [SMSC routes](smsc.md#smsc-routes)); replaces the single-SMSC settings above.',
  },
  SMSC_ROUTES_FILE: { kind: 'string', default: '', doc: 'Path of a JSON file holding the routes.' },
  SMTP_HOST: { kind: 'string', default: '127.0.0.1', doc: 'Worker only. SMTP server for the email fallback channel.' },
  SMTP_PORT: { kind: 'port', default: '2525', doc: "Worker only. SMTP port (the simulator's mailbox listens on 2525)." },
  SMTP_SECURE: { kind: 'string', default: 'false', doc: 'Worker only. `true` for SMTPS (implicit TLS); otherwise STARTTLS when the server offers it.' },
  SMTP_REQUIRE_TLS: {
    kind: 'string',
    default: 'false',
    doc: 'Worker only. `true`: refuse to send a code email over a connection the server does not upgrade with STARTTLS (a typed, retryable failure).',
  },
  SMTP_TLS_CA_FILE: {
    kind: 'string',
    default: '',
    doc: "Worker only. PEM file of the CA that signs the SMTP server's certificate (a private CA); empty: the system's CAs.",
  },
  SMTP_USER: { kind: 'string', default: '', doc: 'Worker only. SMTP user; empty means no authentication.' },
  SMTP_PASSWORD: { kind: 'string', default: '', doc: 'Worker only. SMTP password.' },
  OTP_EMAIL_FROM: { kind: 'string', default: 'otp@localhost', doc: 'Worker only. From address of code emails.' },
  OTP_CALLBACK_KEY: { kind: 'secret', shownDefault: 'dev-only key', doc: 'Worker only. HMAC key that signs delivery callbacks (≥ 16 characters).' },
  OTP_WORKERS: {
    kind: 'count',
    default: String(DEFAULT_OTP_WORKERS),
    doc:
      'Worker only. Worker processes that bind the same SMSC accounts; each opens floor(binds / N) binds ' +
      "of each kind (at least 1) and sends tps / N, so together they keep to each route's numbers.",
  },
  OTP_STATUS_PORT: {
    kind: 'port',
    default: '0',
    shownDefault: '`0` (off)',
    doc: 'Worker only. `GET http://127.0.0.1:<port>/status` shows routes and binds, sends in flight and refusals, and how receipts were paired.',
  },
  OTP_METRICS_PORT: {
    kind: 'port',
    default: '0',
    shownDefault: '`0` (off); `npm start`: `9464`',
    doc: "Worker only. `GET http://<host>:<port>/metrics`: the Prometheus series of [Metrics](operations.md#metrics), the Temporal SDK's worker metrics included.",
  },
  OTP_METRICS_HOST: {
    kind: 'string',
    default: '127.0.0.1',
    doc: 'Worker only. Address the metrics endpoint listens on; `0.0.0.0` lets a Prometheus on another host scrape it.',
  },
  OTP_SDK_METRICS_PORT: {
    kind: 'port',
    default: '0',
    shownDefault: '`0` (= `OTP_METRICS_PORT` + 1)',
    doc:
      'Worker only. Loopback port where the Temporal SDK (Core) exports its own worker metrics; `GET ' +
      '/metrics` appends them, so Prometheus needs only the one endpoint. Unused when metrics are off.',
  },
  OTP_MAX_SENDS_IN_FLIGHT: {
    kind: 'count',
    default: String(DEFAULT_MAX_SENDS_IN_FLIGHT),
    doc: 'Worker only. Sends one worker works on at once; past it a send is refused at once as `overloaded` (`worker_busy`).',
  },
  OTP_MAX_CACHED_WORKFLOWS: {
    kind: 'count',
    default: String(DEFAULT_MAX_CACHED_WORKFLOWS),
    doc:
      "Worker only. Workflow runs this worker keeps in memory between their tasks (Temporal's `maxCachedWorkflows`); the least recently " +
      'used is evicted and replays its history at its next task. Sessions stay open for a day, so without a bound the cache fills to the ' +
      "SDK's heap-based default (about 2,300 runs on a 4 GB heap) and the worker's memory with it. Keep it above your send rate × the " +
      'seconds a user takes to verify. It also caps the workflow tasks the worker runs at once (Temporal Core allows no more than the ' +
      'cache), so it may not go below 100.',
  },
  OTP_WORKER_ALLOCATOR: {
    kind: 'string',
    default: DEFAULT_WORKER_ALLOCATOR,
    doc:
      `Worker only, and from the environment only (not \`OTP_CONFIG_FILE\`): the launchers (\`npm start\`, \`npm run worker\`) preload the worker's malloc before it starts. One of ${WORKER_ALLOCATORS.map((a) => `\`${a}\``).join(', ')}. ` +
      "`auto` preloads jemalloc when it is installed (Debian/Ubuntu: `libjemalloc2`) and otherwise keeps the C library's, leaving an LD_PRELOAD you set as it is; " +
      "`jemalloc` adds it to LD_PRELOAD and refuses to start without it; `system` keeps the C library's. The worker logs the malloc it runs on " +
      '(see [Worker memory](operations.md#worker-memory)).',
  },
  OTP_STICKY_TIMEOUT_MS: {
    kind: 'ms',
    default: String(DEFAULT_STICKY_TIMEOUT_MS),
    doc:
      "Worker only. How long a session's next workflow task waits for the worker that ran its last one (Temporal's " +
      '`stickyQueueScheduleToStartTimeout`) before any worker may take it, replaying the history. After a worker crash, a verify ' +
      'or receipt of its sessions waits this long.',
  },
  OTP_MAX_SEND_WAIT_MS: {
    kind: 'ms',
    default: String(DEFAULT_MAX_SEND_WAIT_MS),
    doc: 'Worker only. A send whose `requestedAt` is older than this is refused as `overloaded` (`request_too_old`) rather than sending a late code. Keep clocks in sync (NTP).',
  },
  OTP_CLIENT_MAX_SENDS_IN_FLIGHT: {
    kind: 'count',
    default: String(DEFAULT_CLIENT_MAX_SENDS_IN_FLIGHT),
    doc:
      'Clients only. Most sends one client process has in flight. Its adaptive limit (AIMD on latency, ' +
      '`client/send-limiter.ts`) stays at or below it; past that limit `send` answers `overloaded` ' +
      '(`client_busy`) without calling Temporal.',
  },
  OTP_CLIENT_SEND_TARGET_MS: {
    kind: 'ms',
    default: String(DEFAULT_CLIENT_SEND_TARGET_MS),
    doc: "Clients only. A send answered slower than this shrinks the client's adaptive limit by a fifth (once per such period); faster ones grow it by one per round.",
  },
  OTP_VELOCITY_SHARDS: {
    kind: 'count',
    default: String(DEFAULT_VELOCITY_SHARDS),
    doc: 'Worker only. Workflows per tenant that aggregate velocity counts (see [Tenant rate and velocity](policy-profiles.md#tenant-rate-and-velocity)).',
  },
  OTP_VELOCITY_SYNC_MS: {
    kind: 'ms',
    default: String(DEFAULT_VELOCITY_SYNC_MS),
    doc: 'Worker only. How often a worker reports its counts and refreshes its snapshot.',
  },
  OTP_RECEIPT_LINK_AFTER_MS: {
    kind: 'ms',
    default: String(DEFAULT_RECEIPT_LINK_AFTER_MS),
    doc: 'Worker only. A message whose final receipt has not come back to its worker in this long gets a durable mailbox workflow; `0` gives every message one at once.',
  },
  OTP_RECEIPT_HOLD_MS: {
    kind: 'ms',
    default: String(DEFAULT_RECEIPT_HOLD_MS),
    doc: 'Worker only. How long a receipt for an unknown id waits for its `submit_sm_resp` before it goes to a mailbox.',
  },
  OTP_SENDER_ID: { kind: 'string', default: 'OTPDemo', doc: 'Sender: alphanumeric (≤ 11, TON 5), short code (TON 3) or +E.164 (TON 1/NPI 1).' },
  OTP_BRAND: { kind: 'string', default: 'Acme', doc: 'Brand named in every message unless a send overrides it.' },
  OTP_TENANT: { kind: 'string', default: DEFAULT_TENANT, doc: 'Tenant the CLI and client use when none is given.' },
  OTP_DEFAULT_REGION: { kind: 'region', default: '', doc: 'ISO country (e.g. `FR`) for numbers written without `+`.' },
  OTP_CODEC_PORT: {
    kind: 'port',
    default: '8234',
    doc: 'Port of the codec server that lets the Web UI decrypt payloads (`npm start`, `npm run codec-server`).',
  },
  OTP_CODEC_TOKEN: {
    kind: 'string',
    default: '',
    doc:
      'Token the codec server requires (16+ characters of `A-Za-z0-9._~-`): `Authorization: Bearer ' +
      "<token>` from the CLI and SDKs, or as the first path segment of the Web UI's codec endpoint " +
      '(`https://codec.example.com/<token>`), since the UI cannot send a static header. Required when the ' +
      'codec server listens beyond loopback and when `NODE_ENV=production`.',
  },
  OTP_OUTBOUND_ALLOW: {
    kind: 'string',
    default: '',
    doc:
      'Worker only. Destinations that callbacks and webhook-channel POSTs may reach beyond the public ' +
      'internet: `hooks.example.com`, `*.example.com` (subdomains), an address (`203.0.113.7`, `::1`) or a ' +
      'network (`10.0.0.0/8`), comma-separated. Loopback, private, link-local (the cloud metadata address ' +
      '169.254.169.254), CGNAT, multicast and reserved addresses are refused unless an address or network ' +
      'entry covers them. Every address DNS returns is checked again at connect time (no rebinding); ' +
      'redirects are not followed.',
  },
  OTP_MO_WEBHOOK_URL: {
    kind: 'string',
    default: '',
    doc:
      'Worker only. Where mobile-originated messages (replies, STOP) are POSTed, signed like every webhook ' +
      '([docs/webhooks.md](webhooks.md)), with retries until it answers 2xx; must pass ' +
      '`OTP_OUTBOUND_ALLOW`. Empty: MO messages are counted and logged without content, not forwarded ' +
      '(STOP/START keywords still apply).',
  },
  OTP_MO_STOP_KEYWORDS: {
    kind: 'string',
    default: DEFAULT_STOP_KEYWORDS,
    doc:
      'Worker only. Keywords (the first word of an MO, trimmed, case-folded) that put the sender on the ' +
      'suppression list; sends on profiles with `respectOptOut` are then refused as `blocked` ' +
      '(`opted_out`). Empty: none.',
  },
  OTP_SUPPRESSION_SYNC_MS: {
    kind: 'ms',
    default: String(DEFAULT_SUPPRESSION_SYNC_MS),
    doc:
      'Worker only. How often a worker reads new STOP and START entries into its copy of the suppression ' +
      "list. A STOP reaches sends on every worker within this plus the cluster's visibility lag, at once " +
      'on the worker that received it; while the copy is more than 5 s old, each send asks Temporal ' +
      'instead (fail closed).',
  },
  OTP_SENDER_APPROVAL: {
    kind: 'string',
    default: 'required',
    doc:
      'Worker only. `required`: a send on a profile revision that no second identity approved is refused ' +
      '(`blocked`, `sender_not_approved` or `sender_rejected`) and nothing is sent (see [Sender ' +
      'approval](policy-profiles.md#sender-approval)). `off`: no approval step, the development switch ' +
      'that `npm start`, the test stacks and the bench set.',
  },
  OTP_SENDER_APPROVAL_SYNC_MS: {
    kind: 'ms',
    default: String(DEFAULT_SENDER_APPROVAL_SYNC_MS),
    doc:
      "Worker only. How often a worker refreshes its copy of each sending tenant's approvals: an approval " +
      'reaches sends within this plus one describe and one query. A copy not refreshed for 10 s refuses ' +
      'sends (`overloaded`, `sender_approvals_unavailable`): fail closed.',
  },
  OTP_MO_START_KEYWORDS: { kind: 'string', default: DEFAULT_START_KEYWORDS, doc: 'Worker only. Keywords that take the sender off the suppression list.' },
  OTP_CODEC_ALLOW_ORIGIN: { kind: 'string', default: 'http://localhost:8233', doc: 'Web UI origin the codec server allows (CORS).' },
  OTP_CODEC_ALLOW_ENCODE: {
    kind: 'string',
    default: 'false',
    doc:
      'Serve `POST /encode` (the Web UI needs it only to send signals or start workflows with input). Off, ' +
      'because encoding lets whoever reaches the codec server write payloads as a key holder. Without a ' +
      'token the codec server serves only requests whose `Host` is loopback (no DNS rebinding).',
  },
  OTP_PROFILES: {
    kind: 'string',
    default: '',
    doc: 'Worker only. Policy profiles as inline JSON (see [Policy profiles](policy-profiles.md#policy-profiles)); wins over the file.',
  },
  OTP_PROFILES_FILE: { kind: 'string', default: '', doc: 'Worker only. Path of a JSON file of policy profiles.' },
  OTP_CODE_KEY: {
    kind: 'secret',
    shownDefault: 'dev-only key',
    doc: 'Worker only. HMAC key codes are derived from and digested with; no client holds it (≥ 16 characters).',
  },
  OTP_CODE_KEY_PREVIOUS: {
    kind: 'string',
    default: '',
    doc: 'Worker only. Code keys replaced by `OTP_CODE_KEY`, comma-separated: their codes keep verifying until they expire.',
  },
  OTP_HASH_KEY: { kind: 'secret', shownDefault: 'dev-only key', doc: 'Workers and clients. The id key: session ids only (≥ 16 characters).' },
  OTP_HASH_KEY_PREVIOUS: {
    kind: 'string',
    default: '',
    doc: 'Workers and clients. Id keys replaced by `OTP_HASH_KEY`, comma-separated: verify, status and cancel still find sessions made under them.',
  },
  OTP_SEAL_PUBLIC_KEY: {
    kind: 'string',
    default: '',
    shownDefault: 'dev-only key',
    doc: 'Clients (workers derive it). Base64 of the DER SubjectPublicKeyInfo of an RSA key (≥ 2048 bits) that seals codes for the workers. `npm run keys` makes every key.',
  },
  OTP_SEAL_PRIVATE_KEY: {
    kind: 'string',
    default: '',
    shownDefault: 'dev-only key',
    doc: 'Worker only. Base64 PKCS#8 DER of its private key; more after a comma keep opening codes sealed before a rotation.',
  },
  OTP_PAYLOAD_KEYS: {
    kind: 'payloadKeys',
    shownDefault: 'dev-only key',
    doc: 'Workers and clients. `id:base64(32 bytes)[,id2:…]`; the first encrypts, all decrypt (rotation).',
  },
} satisfies Record<string, Setting>;

/** The settings table of docs/configuration.md, made from SETTINGS: `npm run docs:settings` writes it, a unit test checks it. */
export function settingsTable(): string {
  const rows = Object.entries(SETTINGS as Record<string, Setting>).map(
    ([name, s]) => `| \`${name}\` | ${s.shownDefault ?? (s.default ? `\`${s.default}\`` : 'empty')} | ${s.doc} |`,
  );
  return ['| setting | default | meaning |', '|---|---|---|', ...rows, '| `OTP_CONFIG_FILE` | none | JSON file with any of the settings above. |'].join('\n');
}

export type SettingName = keyof typeof SETTINGS;

export interface OtpConfig {
  temporal: { address: string; namespace: string; taskQueue: string };
  smsc: {
    name: string;
    host: string;
    port: number;
    systemId: string;
    password: string;
    systemType: string;
    binds: number;
    senderId: string;
    responseTimeoutMs: number;
    enquireLinkMs: number;
  };
  /** SMSC routes in priority order: SMSC_ROUTES, or one route built from the SMSC_* settings. */
  routes: RouteConfig[];
  /** OTP_WORKERS: processes sharing each route's binds and TPS (see smpp/account-share.ts). */
  workers: number;
  /** Worker status endpoint port; 0 = off. */
  statusPort: number;
  /** Prometheus endpoint (port 0 = off) and the loopback port of the Temporal SDK's own exporter. */
  metrics: { port: number; host: string; sdkPort: number };
  /** OTP_MAX_CACHED_WORKFLOWS: the worker's workflow cache (bounds its memory). */
  maxCachedWorkflows: number;
  /** OTP_WORKER_ALLOCATOR: the malloc the launchers preload (the worker checks that `jemalloc` is really loaded). */
  allocator: WorkerAllocator;
  /** OTP_STICKY_TIMEOUT_MS: how long a task waits for the worker that has its session cached. */
  stickyTimeoutMs: number;
  /** Admission control: worker bound and stale-request limit, and the client's own bound. */
  admission: { maxInFlight: number; maxWaitMs: number; clientMaxInFlight: number; clientTargetMs: number };
  /** Velocity shards per tenant and the workers' sync period. */
  velocity: { shards: number; syncMs: number };
  /** How often the worker's copy of the suppression list reads new entries (OTP_SUPPRESSION_SYNC_MS). */
  suppressionSyncMs: number;
  /** Sender approval (OTP_SENDER_APPROVAL, OTP_SENDER_APPROVAL_SYNC_MS): required in production, off for the embedded stack. */
  senderApproval: { mode: SenderApprovalMode; syncMs: number };
  /** Receipt correlation (activities/receipt-links.ts). */
  receipts: { linkAfterMs: number; holdMs: number };
  smtp: { host: string; port: number; secure: boolean; requireTls: boolean; ca?: string; user?: string; password?: string; from: string };
  brand: string;
  tenant: string;
  codecServer: { port: number; token?: string; allowOrigin: string; allowEncode: boolean };
  /** Where callbacks and webhook-channel POSTs may go. */
  outbound: OutboundPolicy;
  /** Mobile-originated messages: the webhook (none = not forwarded) and the suppression keywords. */
  mo: { webhookUrl?: string; stopKeywords: string[]; startKeywords: string[] };
  defaultRegion?: string;
  /**
   * `code`, `sealPrivate` and `callback` are empty for the client role. `code` and `hash` list the
   * current key first, then the ones it replaced.
   */
  keys: { code: string[]; hash: string[]; payload: PayloadKey[]; callback: string; sealPublic: string; sealPrivate: Buffer[] };
  /** Policy profiles (worker role only; the client role gets the presets). */
  profiles: ProfileStore;
  /** True when any key fell back to its dev-only default. */
  usingDevKeys: boolean;
}

export type Env = Record<string, string | undefined>;

function readFile(path: string): Record<string, string> {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`OTP_CONFIG_FILE: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new ConfigError(`OTP_CONFIG_FILE: ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(`OTP_CONFIG_FILE: ${path} must hold a JSON object`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (!(k in SETTINGS)) throw new ConfigError(`OTP_CONFIG_FILE: unknown setting "${k}" in ${path}`);
    if (typeof v !== 'string' && typeof v !== 'number') throw new ConfigError(`${k} in ${path} must be a string or a number`);
    out[k] = String(v);
  }
  return out;
}

/** Workers need every key; clients never hold OTP_CODE_KEY. */
export type ConfigRole = 'worker' | 'client';

export function loadConfig(env: Env = process.env, role: ConfigRole = 'worker'): OtpConfig {
  const file = env.OTP_CONFIG_FILE ? readFile(env.OTP_CONFIG_FILE) : {};
  const production = env.NODE_ENV === 'production';
  let usingDevKeys = false;
  const raw = (name: SettingName): string | undefined => env[name] ?? file[name];
  if (production) {
    const needed: SettingName[] =
      role === 'worker'
        ? ['OTP_CODE_KEY', 'OTP_HASH_KEY', 'OTP_PAYLOAD_KEYS', 'OTP_CALLBACK_KEY', 'OTP_SEAL_PRIVATE_KEY']
        : ['OTP_HASH_KEY', 'OTP_PAYLOAD_KEYS', 'OTP_SEAL_PUBLIC_KEY'];
    const missing = needed.filter((n) => !raw(n));
    if (missing.length) throw new ConfigError(`${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} required when NODE_ENV=production`);
  }
  const str = (name: SettingName): string => raw(name) ?? (SETTINGS[name] as Setting).default ?? '';
  const int = (name: SettingName, min: number, max: number): number => {
    const v = str(name).trim();
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max} (got "${v}")`);
    return n;
  };
  const nonEmpty = (name: SettingName): string => {
    const v = str(name).trim();
    if (!v) throw new ConfigError(`${name} must not be empty`);
    return v;
  };
  const secret = (name: SettingName, devDefault: string): string => {
    const v = raw(name);
    if (v === undefined || v === '') {
      usingDevKeys = true;
      return devDefault;
    }
    if (v.length < MIN_SECRET_LENGTH) throw new ConfigError(`${name} must be at least ${MIN_SECRET_LENGTH} characters`);
    return v;
  };

  const readPem = (name: SettingName): string => {
    try {
      return readFileSync(str(name), 'utf8');
    } catch (err) {
      throw new ConfigError(`${name}: cannot read ${str(name)}: ${(err as Error).message}`);
    }
  };
  const bool = (name: SettingName): boolean => {
    const v = str(name).trim().toLowerCase();
    if (v !== 'true' && v !== 'false') throw new ConfigError(`${name} must be "true" or "false" (got "${v}")`);
    return v === 'true';
  };
  const previous = (name: SettingName): string[] => {
    const list = str(name)
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean);
    for (const k of list) if (k.length < MIN_SECRET_LENGTH) throw new ConfigError(`${name}: every key must be at least ${MIN_SECRET_LENGTH} characters`);
    return list;
  };
  const seal = (): { sealPublic: string; sealPrivate: Buffer[] } => {
    const privSpec = raw('OTP_SEAL_PRIVATE_KEY');
    const pubSpec = raw('OTP_SEAL_PUBLIC_KEY');
    if (role === 'client') {
      if (!pubSpec) usingDevKeys = true;
      const sealPublic = pubSpec || DEV_SEAL_PUBLIC_KEY;
      try {
        parseSealPublicKey(sealPublic);
      } catch (err) {
        throw new ConfigError((err as Error).message);
      }
      return { sealPublic, sealPrivate: [] };
    }
    if (!privSpec) usingDevKeys = true;
    const sealPrivate = (privSpec || DEV_SEAL_PRIVATE_KEY).split(',').map((k) => Buffer.from(k.trim(), 'base64'));
    let derived: Buffer;
    try {
      derived = SealOpener.publicKeyOf(sealPrivate[0]);
      new SealOpener(sealPrivate);
    } catch {
      throw new ConfigError('OTP_SEAL_PRIVATE_KEY must be base64 of RSA private keys in PKCS#8 DER form, comma-separated');
    }
    const sealPublic = derived.toString('base64');
    if (pubSpec && pubSpec.trim() !== sealPublic) throw new ConfigError('OTP_SEAL_PUBLIC_KEY is not the public key of the first OTP_SEAL_PRIVATE_KEY');
    parseSealPublicKey(sealPublic);
    return { sealPublic, sealPrivate };
  };

  const address = nonEmpty('TEMPORAL_ADDRESS');
  if (!TEMPORAL_ADDRESS_PATTERN.test(address)) throw new ConfigError(`TEMPORAL_ADDRESS ${TEMPORAL_ADDRESS_RULE} (got "${address}")`);
  const password = str('SMSC_PASSWORD');
  if (password.length > 8) throw new ConfigError('SMSC_PASSWORD must be at most 8 characters (SMPP 3.4 limit)');
  const systemId = nonEmpty('SMSC_SYSTEM_ID');
  if (systemId.length > 15) throw new ConfigError('SMSC_SYSTEM_ID must be at most 15 characters (SMPP 3.4 limit)');
  const senderId = nonEmpty('OTP_SENDER_ID');
  if (!senderKind(senderId)) throw new ConfigError(`OTP_SENDER_ID must be ${SENDER_ID_RULE} (got "${senderId.slice(0, 40)}")`);
  const region = str('OTP_DEFAULT_REGION').trim().toUpperCase();
  if (region && !/^[A-Z]{2}$/.test(region)) throw new ConfigError(`OTP_DEFAULT_REGION must be a two-letter ISO country code (got "${region}")`);

  let payload: PayloadKey[];
  const payloadSpec = raw('OTP_PAYLOAD_KEYS');
  if (payloadSpec === undefined || payloadSpec === '') {
    usingDevKeys = true;
    payload = parsePayloadKeys(DEV_PAYLOAD_KEYS);
  } else {
    try {
      payload = parsePayloadKeys(payloadSpec);
    } catch (err) {
      throw new ConfigError(`OTP_PAYLOAD_KEYS: ${(err as Error).message}`);
    }
  }

  let profiles: ProfileStore;
  try {
    profiles =
      role === 'worker' ? ProfileStore.fromEnv({ OTP_PROFILES: raw('OTP_PROFILES'), OTP_PROFILES_FILE: raw('OTP_PROFILES_FILE') }) : new ProfileStore();
  } catch (err) {
    if (err instanceof PolicyError) throw new ConfigError(err.message);
    throw err;
  }

  const bindMode = str('SMSC_BIND_MODE');
  if (bindMode !== 'transceiver' && bindMode !== 'transmitter+receiver')
    throw new ConfigError(`SMSC_BIND_MODE must be "transceiver" or "transmitter+receiver" (got "${bindMode}")`);
  const tlsFlag = str('SMSC_TLS').toLowerCase();
  if (!['true', 'false'].includes(tlsFlag)) throw new ConfigError(`SMSC_TLS must be "true" or "false" (got "${tlsFlag}")`);
  let routes: RouteConfig[];
  try {
    const inline = raw('SMSC_ROUTES');
    const file = raw('SMSC_ROUTES_FILE');
    if (inline) routes = parseRoutes(inline, 'SMSC_ROUTES');
    else if (file) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new ConfigError(`SMSC_ROUTES_FILE: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
      routes = parseRoutes(text, `SMSC_ROUTES_FILE (${file})`);
    } else {
      const caFile = str('SMSC_TLS_CA_FILE');
      routes = parseRoutes(
        JSON.stringify([
          {
            name: nonEmpty('SMSC_NAME'),
            host: nonEmpty('SMSC_HOST'),
            port: int('SMSC_PORT', 1, 65535),
            systemId,
            password,
            systemType: str('SMSC_SYSTEM_TYPE'),
            bindMode,
            binds: int('SMSC_BINDS', 1, 32),
            window: int('SMSC_WINDOW', ...BIND_RANGES.window),
            tps: int('SMSC_TPS', 0, 100000),
            tls: tlsFlag === 'true' ? (caFile ? { caFile } : true) : false,
            responseTimeoutMs: int('SMSC_RESPONSE_TIMEOUT_MS', ...BIND_RANGES.responseTimeoutMs),
            enquireLinkMs: int('SMSC_ENQUIRE_LINK_MS', ...BIND_RANGES.enquireLinkMs),
          },
        ]),
        'SMSC_* settings',
      );
    }
  } catch (err) {
    if (err instanceof RouteConfigError) throw new ConfigError(err.message);
    throw err;
  }

  const smtpSecure = str('SMTP_SECURE').toLowerCase();
  if (!['true', 'false'].includes(smtpSecure)) throw new ConfigError(`SMTP_SECURE must be "true" or "false" (got "${smtpSecure}")`);
  const from = nonEmpty('OTP_EMAIL_FROM');
  if (!isEmailAddress(from, { local: true })) throw new ConfigError(`OTP_EMAIL_FROM must be one email address (got "${from.slice(0, 80)}")`);

  let outbound: OutboundPolicy;
  try {
    outbound = parseOutboundPolicy(str('OTP_OUTBOUND_ALLOW'));
  } catch (err) {
    throw new ConfigError(`OTP_OUTBOUND_ALLOW: ${(err as Error).message}`);
  }

  return {
    smtp: {
      host: nonEmpty('SMTP_HOST'),
      port: int('SMTP_PORT', 1, 65535),
      secure: smtpSecure === 'true',
      requireTls: bool('SMTP_REQUIRE_TLS'),
      ...(str('SMTP_TLS_CA_FILE') ? { ca: readPem('SMTP_TLS_CA_FILE') } : {}),
      user: str('SMTP_USER') || undefined,
      password: str('SMTP_PASSWORD') || undefined,
      from,
    },
    routes,
    workers: int('OTP_WORKERS', 1, 1000),
    statusPort: int('OTP_STATUS_PORT', 0, 65535),
    metrics: (() => {
      const port = int('OTP_METRICS_PORT', 0, 65535);
      const sdk = int('OTP_SDK_METRICS_PORT', 0, 65535);
      if (port === 65535 && sdk === 0)
        throw new ConfigError('OTP_SDK_METRICS_PORT must be set when OTP_METRICS_PORT is 65535 (the default is OTP_METRICS_PORT + 1)');
      if (port !== 0 && sdk === port) throw new ConfigError(`OTP_SDK_METRICS_PORT must differ from OTP_METRICS_PORT (both ${port})`);
      return { port, host: nonEmpty('OTP_METRICS_HOST'), sdkPort: port === 0 ? 0 : sdk || port + 1 };
    })(),
    maxCachedWorkflows: int('OTP_MAX_CACHED_WORKFLOWS', 100, 100000),
    allocator: (() => {
      // The launcher reads the environment before the worker exists: a value only the file holds would be ignored there.
      if (file.OTP_WORKER_ALLOCATOR !== undefined)
        throw new ConfigError(
          'OTP_WORKER_ALLOCATOR is read from the environment only (the launcher preloads the allocator before the worker starts): move it out of OTP_CONFIG_FILE',
        );
      try {
        return workerAllocator(env.OTP_WORKER_ALLOCATOR);
      } catch (err) {
        if (err instanceof WorkerAllocatorError) throw new ConfigError(err.message);
        throw err;
      }
    })(),
    stickyTimeoutMs: int('OTP_STICKY_TIMEOUT_MS', 1000, 600000),
    admission: {
      maxInFlight: int('OTP_MAX_SENDS_IN_FLIGHT', 1, 100000),
      maxWaitMs: int('OTP_MAX_SEND_WAIT_MS', 100, 600000),
      clientMaxInFlight: int('OTP_CLIENT_MAX_SENDS_IN_FLIGHT', 1, 100000),
      clientTargetMs: int('OTP_CLIENT_SEND_TARGET_MS', 50, 600000),
    },
    velocity: { shards: int('OTP_VELOCITY_SHARDS', 1, 64), syncMs: int('OTP_VELOCITY_SYNC_MS', 50, 60000) },
    suppressionSyncMs: int('OTP_SUPPRESSION_SYNC_MS', 50, 60000),
    senderApproval: (() => {
      const mode = str('OTP_SENDER_APPROVAL').trim().toLowerCase();
      if (mode !== 'off' && mode !== 'required') throw new ConfigError(`OTP_SENDER_APPROVAL must be "required" or "off" (got "${mode}")`);
      return { mode, syncMs: int('OTP_SENDER_APPROVAL_SYNC_MS', 50, 60000) };
    })(),
    receipts: { linkAfterMs: int('OTP_RECEIPT_LINK_AFTER_MS', 0, 3600000), holdMs: int('OTP_RECEIPT_HOLD_MS', 0, 60000) },
    profiles,
    temporal: { address, namespace: nonEmpty('TEMPORAL_NAMESPACE'), taskQueue: nonEmpty('OTP_TASK_QUEUE') },
    smsc: {
      name: nonEmpty('SMSC_NAME'),
      host: nonEmpty('SMSC_HOST'),
      port: int('SMSC_PORT', 1, 65535),
      systemId,
      password,
      systemType: str('SMSC_SYSTEM_TYPE'),
      binds: int('SMSC_BINDS', 1, 32),
      senderId,
      responseTimeoutMs: int('SMSC_RESPONSE_TIMEOUT_MS', ...BIND_RANGES.responseTimeoutMs),
      enquireLinkMs: int('SMSC_ENQUIRE_LINK_MS', ...BIND_RANGES.enquireLinkMs),
    },
    brand: nonEmpty('OTP_BRAND'),
    codecServer: {
      port: int('OTP_CODEC_PORT', 0, 65535),
      token: str('OTP_CODEC_TOKEN') || undefined,
      allowOrigin: nonEmpty('OTP_CODEC_ALLOW_ORIGIN'),
      allowEncode: bool('OTP_CODEC_ALLOW_ENCODE'),
    },
    outbound,
    mo: (() => {
      const webhookUrl = str('OTP_MO_WEBHOOK_URL');
      if (webhookUrl && role === 'worker') {
        try {
          checkUrl(webhookUrl, outbound);
        } catch (err) {
          throw new ConfigError(`OTP_MO_WEBHOOK_URL ${(err as Error).message} (see OTP_OUTBOUND_ALLOW)`);
        }
      }
      const stopKeywords = parseKeywords(str('OTP_MO_STOP_KEYWORDS'));
      const startKeywords = parseKeywords(str('OTP_MO_START_KEYWORDS'));
      const both = stopKeywords.filter((k) => startKeywords.includes(k));
      if (both.length) throw new ConfigError(`OTP_MO_STOP_KEYWORDS and OTP_MO_START_KEYWORDS both list ${both.join(', ')}`);
      return { webhookUrl: webhookUrl || undefined, stopKeywords, startKeywords };
    })(),
    tenant: nonEmpty('OTP_TENANT'),
    defaultRegion: region || undefined,
    keys: {
      code: role === 'worker' ? [secret('OTP_CODE_KEY', DEV_CODE_KEY), ...previous('OTP_CODE_KEY_PREVIOUS')] : [],
      hash: [secret('OTP_HASH_KEY', DEV_HASH_KEY), ...previous('OTP_HASH_KEY_PREVIOUS')],
      payload,
      callback: role === 'worker' ? secret('OTP_CALLBACK_KEY', DEV_CALLBACK_KEY) : '',
      ...seal(),
    },
    usingDevKeys,
  };
}
