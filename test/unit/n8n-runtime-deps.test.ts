/**
 * n8n installs a community package without its optionalDependencies, so the
 * worker-only packages live there and the nodes must never load them: an
 * import that did would fail in n8n, and moving it back to "dependencies"
 * would grow the install by some 250 MB. Reads the built nodes (npm test
 * builds before jest) in a child process, so this run's require.cache plays no part.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RuntimeDeps } from '../../scripts/n8n-runtime-deps';

const ROOT = join(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'dist', 'scripts', 'n8n-runtime-deps.js');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  optionalDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
};

let deps: RuntimeDeps;
beforeAll(() => {
  if (!existsSync(SCRIPT)) throw new Error(`${SCRIPT} is missing: run npm run build first`);
  deps = JSON.parse(execFileSync(process.execPath, [SCRIPT, '--json'], { cwd: ROOT, encoding: 'utf8' })) as RuntimeDeps;
});

test('the worker-only packages are optional dependencies', () => {
  expect(Object.keys(pkg.optionalDependencies)).toEqual(
    expect.arrayContaining(['@temporalio/worker', '@temporalio/activity', 'smpp', 'nodemailer', 'prom-client']),
  );
});

test('the nodes and credentials load none of the optional (worker-only) packages', () => {
  expect(deps.loaded).toEqual(expect.arrayContaining(['@temporalio/client', 'n8n-workflow']));
  expect(deps.loaded.filter((name) => name in pkg.optionalDependencies)).toEqual([]);
});

test('every package our node code imports is a dependency (or n8n-workflow, which n8n provides)', () => {
  expect(deps.imported.filter((name) => !(name in pkg.dependencies) && !(name in pkg.peerDependencies))).toEqual([]);
});

test('every dependency is loaded by the nodes: whatever else n8n would install for nothing belongs in optionalDependencies', () => {
  expect(Object.keys(pkg.dependencies).filter((name) => !deps.loaded.includes(name))).toEqual([]);
});
