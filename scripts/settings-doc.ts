/**
 * Writes the settings table of docs/configuration.md from config/config.ts SETTINGS
 * (`npm run docs:settings`), between its settings:start and settings:end markers.
 * With --check it changes nothing and exits 1 when the file is out of date.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { settingsTable } from '../config/config';
import { PROJECT_ROOT } from '../dev/temporal-server';

export const CONFIGURATION_DOC = join(PROJECT_ROOT, 'docs', 'configuration.md');

/** The document with its table replaced by the generated one. */
export function withSettingsTable(doc: string): string {
  const m = /(<!-- settings:start[^\n]*-->\n)[\s\S]*?(\n<!-- settings:end -->)/.exec(doc);
  if (!m) throw new Error('docs/configuration.md lacks the settings:start / settings:end markers');
  return doc.slice(0, m.index) + m[1] + settingsTable() + m[2] + doc.slice(m.index + m[0].length);
}

if (require.main === module) {
  const doc = readFileSync(CONFIGURATION_DOC, 'utf8');
  const next = withSettingsTable(doc);
  if (process.argv.includes('--check')) {
    if (next !== doc) {
      console.error('docs/configuration.md is out of date: run npm run docs:settings');
      process.exit(1);
    }
  } else if (next !== doc) writeFileSync(CONFIGURATION_DOC, next);
}
