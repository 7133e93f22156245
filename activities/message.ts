/** Renders the SMS body. The phone number never appears in it; the brand always does. */
export interface MessageParams {
  brand: string;
  code: string;
  ttlSeconds: number;
}

export function renderMessage({ brand, code, ttlSeconds }: MessageParams): string {
  const minutes = Math.max(1, Math.round(ttlSeconds / 60));
  return `${brand}: your verification code is ${code}. It expires in ${minutes} min. Never share it.`;
}
