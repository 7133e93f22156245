/**
 * Issue 15's target: every default template in a GSM-7 locale fits one SMS segment, rendered as a send renders it
 * (the default brand, the longest code of the preset, its TTL, a typical context line for transactions).
 */
import { PRESETS } from '../../policy/profile';
import { renderMessage } from '../../policy/message';
import { SETTINGS } from '../../config/config';

const BRAND = SETTINGS.OTP_BRAND.default;
const CONTEXT = 'Confirm transfer of EUR 500 to Alice';

const rows = Object.entries(PRESETS).flatMap(([preset, p]) => Object.entries(p.templates).map(([locale, template]) => ({ preset, locale, template, p })));

test.each(rows.map((r) => [r.preset, r.locale, r]))('%s / %s: one segment when GSM-7', (_preset, _locale, { template, p }) => {
  const rendered = renderMessage({
    template,
    code: '9'.repeat(p.codeLength),
    brand: BRAND,
    ttlSeconds: p.ttlSeconds,
    context: p.requireContext ? CONTEXT : undefined,
    autofill: p.autofill,
    normalize: p.normalizeLookalikes,
    maxSegments: p.maxSegments,
  });
  if (rendered.encoding === 'GSM7') expect(rendered.segments).toBe(1);
  else expect(['ru']).toContain(_locale); // only Cyrillic templates are UCS-2
});
