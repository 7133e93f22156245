/**
 * Issue 14: the documents cannot drift from the code. The README opens with the two commands and
 * stays a newcomer's page; every relative link resolves; docs/contract.md names every workflow,
 * message and request field that contract/ defines for callers.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import * as contract from '../../contract';

const ROOT = join(__dirname, '..', '..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

test('the README opens with the two commands, and package.json has both scripts', () => {
  const firstBlock = /```bash\n([\s\S]*?)```/.exec(read('README.md'))?.[1] ?? '';
  expect(firstBlock).toMatch(/^npm install && npm start\b/m);
  expect(firstBlock).toMatch(/^npm install && npm test\b/m);
  const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
  expect(scripts.start).toBeDefined();
  expect(scripts.test).toBeDefined();
});

test('the README is a page a newcomer reads in minutes: the reference lives in docs/', () => {
  expect(read('README.md').split('\n').length).toBeLessThanOrEqual(160);
});

/** Every Markdown file of the repository, outside installed or built trees. */
function markdownFiles(dir = ROOT): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (['node_modules', 'dist', '.tools', '.git', 'data'].includes(name)) return [];
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return markdownFiles(p);
    return name.endsWith('.md') ? [relative(ROOT, p)] : [];
  });
}

/** GitHub's heading anchors. */
function anchors(file: string): Set<string> {
  const out = new Set<string>();
  let fenced = false;
  for (const line of read(file).split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const h = !fenced && /^#+ (.*)$/.exec(line);
    if (h)
      out.add(
        h[1]
          .trim()
          .toLowerCase()
          .replace(/[^\w\- ]/g, '')
          .replace(/ /g, '-'),
      );
  }
  return out;
}

test('every relative link and image in the Markdown resolves, anchors included', () => {
  const broken: string[] = [];
  for (const file of markdownFiles()) {
    for (const m of read(file).matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)) {
      const target = m[1];
      if (/^[a-z]+:/.test(target)) continue;
      const [path, anchor] = target.split('#');
      const to = path ? normalize(join(dirname(file), path)) : file;
      if (!existsSync(join(ROOT, to))) broken.push(`${file}: ${target}`);
      else if (anchor && to.endsWith('.md') && !anchors(to).has(anchor)) broken.push(`${file}: ${target} (no such heading)`);
    }
  }
  expect(broken).toEqual([]);
});

/** Field names of an exported interface in contract/index.ts, read from its source. */
function fieldsOf(name: string): string[] {
  const src = read('contract/index.ts');
  const body = new RegExp(`^export interface ${name}\\b[^{]*\\{\\n([\\s\\S]*?)^\\}`, 'm').exec(src)?.[1];
  if (!body) throw new Error(`no interface ${name} in contract/index.ts`);
  return [...body.matchAll(/^ {2}([A-Za-z]+)\??:/gm)].map((m) => m[1]);
}

/** The row of docs/contract.md's table whose first cell is `cell`. */
function row(cell: string): string {
  const line = read('docs/contract.md')
    .split('\n')
    .find((l) => l.startsWith(`| ${cell} |`));
  if (!line) throw new Error(`docs/contract.md has no row "${cell}"`);
  return line;
}

/** Set by the workers' codecs or carried by continue-as-new: never written by a caller. */
const INTERNAL = new Set(['opened', 'carried', 'carriedRefused']);

test.each([
  ['session workflow type', 'OtpSessionInput'],
  ['update `send`', 'SendOtpRequest'],
  ['update `verify`', 'VerifyOtpRequest'],
  ['update `cancel`', 'CancelOtpRequest'],
  ['signal `deliveryReceipt`', 'DeliveryReceipt'],
  ['signal `deliveryReceipt`', 'SessionReceipt'],
  ['mailbox workflow', 'MailboxSubmitted'],
])('docs/contract.md "%s" names every field of %s', (cell, iface) => {
  const text = row(cell);
  const missing = fieldsOf(iface).filter((f) => !INTERNAL.has(f) && !text.includes(`"${f}"`));
  expect(missing).toEqual([]);
});

test('docs/contract.md names the workflows, messages, channels and session version of contract/', () => {
  const doc = read('docs/contract.md');
  for (const name of [
    contract.OTP_SESSION_WORKFLOW,
    contract.VELOCITY_SHARD_WORKFLOW,
    contract.RECEIPT_MAILBOX_WORKFLOW,
    contract.CATALOG_WORKFLOW,
    contract.MO_WORKFLOW,
    contract.OPT_OUT_WORKFLOW,
    contract.SENDER_APPROVAL_WORKFLOW,
  ]) {
    expect(doc).toContain(`\`${name}\``);
  }
  for (const [kind, name] of [
    ['update', contract.SEND_UPDATE],
    ['update', contract.VERIFY_UPDATE],
    ['update', contract.CANCEL_UPDATE],
    ['query', contract.STATUS_QUERY],
    ['signal', contract.DELIVERY_RECEIPT_SIGNAL],
  ]) {
    expect(doc).toContain(`${kind} \`${name}\``);
  }
  expect(doc).toContain(`signals \`${contract.MAILBOX_SUBMITTED_SIGNAL}\``);
  const channel = /"channel"\?: ([^,]*),/.exec(row('update `send`'))?.[1] ?? '';
  for (const c of contract.SEND_CHANNELS) expect(channel).toContain(`"${c}"`);
  expect(row('session workflow type')).toContain(`"v"?: ${contract.SESSION_VERSION}`);
});
