/**
 * Prints a fresh set of keys as settings (`npm run keys`): paste the worker
 * lines into the workers' environment and the client lines into every client
 * (n8n credentials, backends). Nothing is written to disk.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';

const secret = () => randomBytes(32).toString('base64url');
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const sealPublic = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const sealPrivate = privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64');
const id = `k${new Date().toISOString().slice(0, 10).replace(/-/g, '')}`;
const payload = `${id}:${randomBytes(32).toString('base64')}`;
const hash = secret();

console.log(`# Workers and clients
OTP_HASH_KEY=${hash}
OTP_PAYLOAD_KEYS=${payload}
OTP_SEAL_PUBLIC_KEY=${sealPublic}

# Workers only: no client, n8n credential or backend ever holds these
OTP_CODE_KEY=${secret()}
OTP_CALLBACK_KEY=${secret()}
OTP_SEAL_PRIVATE_KEY=${sealPrivate}`);
