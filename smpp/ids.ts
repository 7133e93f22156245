/**
 * Message id canonical form. Some SMSCs answer submit_sm with a hex id and
 * write the receipt text id in decimal (or the reverse). Numeric formats are
 * reduced to a decimal string, so both sides meet in one mailbox id.
 */
export type MessageIdFormat = 'string' | 'hex' | 'decimal';

export function canonicalMessageId(id: string, format: MessageIdFormat): string {
  const trimmed = id.trim();
  try {
    if (format === 'hex' && /^[0-9a-f]+$/i.test(trimmed)) return BigInt(`0x${trimmed}`).toString(10);
    if (format === 'decimal' && /^\d+$/.test(trimmed)) return BigInt(trimmed).toString(10);
  } catch {
    // fall through to the string form
  }
  return trimmed.toLowerCase();
}
