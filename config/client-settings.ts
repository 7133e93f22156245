/**
 * The settings rules clients share with the workers, apart from the settings table: defaults, the
 * address form, the key length and the dev-only client keys. config.ts builds on them; the n8n
 * nodes' credential parser (nodes/shared/transport) imports them without loading the worker's settings.
 */

export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';
export const DEFAULT_TEMPORAL_NAMESPACE = 'default';

/** A Temporal frontend as host:port, and the rule as a message says it. */
export const TEMPORAL_ADDRESS_PATTERN = /^[^\s:]+:\d{1,5}$/;
export const TEMPORAL_ADDRESS_RULE = 'must look like host:port';

/** Shortest HMAC key (OTP_CODE_KEY, OTP_HASH_KEY, OTP_CALLBACK_KEY and their previous keys). */
export const MIN_SECRET_LENGTH = 16;

/** Dev-only keys: fine for the embedded stack, refused when NODE_ENV=production. */
export const DEV_HASH_KEY = 'dev-only-hash-key-change-me-0000000000';
export const DEV_PAYLOAD_KEYS = `dev:${Buffer.alloc(32, 7).toString('base64')}`;
/** Public half of the dev-only RSA-2048 pair that seals codes for the embedded stack (the private half: config.ts). */
export const DEV_SEAL_PUBLIC_KEY =
  'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAxoqVj/U94EWCvoyBS3gZ3fjxxUs5IEwtHznEtSJ3Vj9DKV+lKTZXqbMH' +
  '5B51bsGhgP/DgYtKT2c0VUyKZxAjf3gQKpVkWKQFApmzx1AsCTjQu+5XG6Vmoib+cyto3dDBV9R5OYb0w5JKhUi2rLXmF0fGc7zQ' +
  '/dxYRyJzEsxXyV8DVACB1NPpb6Q2K1n/sZzVQwT+NNfg1AepRHRffwxQFgHSLBYRVJZMKb+mwygtwj/q7Qyl8nbMRPNmuj5jgp12' +
  'u3Nh57stGQYIULN3TWSrOFQ/SlSZci9yxArSXv0i4Tk9oPIZF5AfZ3O3vVwUdknO2NS8EvgVYU0/9QDdS1fuBwIDAQAB';
