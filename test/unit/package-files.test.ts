/**
 * Issue 14: the published package holds no module that needs a devDependency (the simulator, the
 * browser helper, the local test stack, the bench): `npm pack`'s own file list, each file's
 * require graph walked inside dist/. n8n-workflow is n8n's own, so the nodes may load it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
const DEV = new Set(Object.keys(pkg.devDependencies).filter((n) => n !== 'n8n-workflow'));

/** The devDependency a built module reaches through its requires, or undefined. */
function devDependencyOf(file: string, seen = new Set<string>()): string | undefined {
  if (seen.has(file)) return undefined;
  seen.add(file);
  for (const [, spec] of readFileSync(file, 'utf8').matchAll(/require\("([^"]+)"\)/g)) {
    if (spec.startsWith('.')) {
      const base = resolve(dirname(file), spec);
      const next = [`${base}.js`, join(base, 'index.js')].find((f) => existsSync(f));
      const hit = next && devDependencyOf(next, seen);
      if (hit) return `${hit} (via ${next!.slice(ROOT.length + 1)})`;
    } else {
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
      if (DEV.has(name)) return name;
    }
  }
  return undefined;
}

test('no published module needs a devDependency', () => {
  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }),
  ) as [{ files: { path: string }[] }];
  const js = packed.files.map((f) => f.path).filter((p) => p.startsWith('dist/') && p.endsWith('.js'));
  expect(js.length).toBeGreaterThan(50);
  expect(js).toEqual(expect.arrayContaining(['dist/nodes/SendOtp/SendOtp.node.js', 'dist/client/index.js', 'dist/worker.js']));
  const offenders = js.map((p) => [p, devDependencyOf(join(ROOT, p))]).filter(([, hit]) => hit);
  expect(offenders).toEqual([]);
}, 30_000);
