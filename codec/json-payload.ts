/** Edits the JSON object inside a payload; used by the workers' codecs. */
import { METADATA_ENCODING_KEY, type Payload } from '@temporalio/common';

/**
 * Parses a json/plain payload holding an object and hands it to `edit`.
 * Re-serialises only when `edit` returns true; anything else passes untouched.
 */
export function editJsonObject(p: Payload, edit: (obj: Record<string, unknown>) => boolean): Payload {
  const encoding = p.metadata?.[METADATA_ENCODING_KEY];
  if (!p.data || !encoding || Buffer.from(encoding).toString() !== 'json/plain') return p;
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(p.data).toString('utf8'));
  } catch {
    return p;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return p;
  const obj = body as Record<string, unknown>;
  return edit(obj) ? { ...p, data: Buffer.from(JSON.stringify(obj), 'utf8') } : p;
}
