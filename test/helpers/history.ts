/** Reading a workflow's history as stored, to show what it does not hold. */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

/** The history as the server stores it (protobuf bytes). */
export async function rawHistory(client: Client, workflowId: string): Promise<Buffer> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return Buffer.from(temporal.api.history.v1.History.encode(temporal.api.history.v1.History.fromObject(history)).finish());
}

export type Payload = { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null };

/** Every payload anywhere in a fetched history (or any part of one). */
export function collectPayloads(node: unknown, out: Payload[] = []): Payload[] {
  if (!node || typeof node !== 'object' || node instanceof Uint8Array) return out;
  const obj = node as Record<string, unknown>;
  if (obj.metadata && typeof obj.metadata === 'object' && 'encoding' in (obj.metadata as object)) {
    out.push(obj as Payload);
    return out;
  }
  for (const v of Object.values(obj)) collectPayloads(v, out);
  return out;
}

/** Every form a secret could leak in: clear text, base64 of it, and JSON-quoted. */
export function secretForms(secret: string): string[] {
  return [secret, Buffer.from(secret).toString('base64'), Buffer.from(JSON.stringify(secret)).toString('base64')];
}

/** Throws, naming `what`, if the bytes hold the secret in any of its forms. */
export function expectAbsent(bytes: Buffer, secret: string, what: string): void {
  const text = bytes.toString('latin1');
  for (const f of secretForms(secret)) {
    if (text.includes(f)) throw new Error(`${what} found in history as "${f}"`);
  }
}
