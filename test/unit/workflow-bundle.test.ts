/**
 * Workers load the build's workflow bundle only when nothing compiled beside it is newer:
 * a `tsc` run without the bundling step must never leave a worker on old workflow code.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundledPackageVersions, workflowCode } from '../../lib/workflow-bundle';

let dist: string;
const bundle = () => join(dist, 'workflow-bundle.js');
const at = (file: string, seconds: number) => utimesSync(file, seconds, seconds);
const write = (rel: string, seconds: number) => {
  const file = join(dist, rel);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, '');
  at(file, seconds);
  return file;
};

/** The manifest the build writes beside the bundle: the workflow runtime's versions it was made from. */
const manifest = (packages: Record<string, string> = bundledPackageVersions()) =>
  writeFileSync(join(dist, 'workflow-bundle.json'), JSON.stringify({ packages }));

beforeEach(() => {
  dist = mkdtempSync(join(tmpdir(), 'otp-bundle-'));
  manifest();
  write('worker.js', 1_000);
  write('workflows/otp-session.js', 1_000);
  write('nodes/SendOtp/SendOtp.node.json', 5_000); // not code: never makes the bundle stale
});
afterEach(() => rmSync(dist, { recursive: true, force: true }));

test('a bundle as new as every compiled file is used', () => {
  write('workflow-bundle.js', 1_000);
  expect(workflowCode(bundle())).toEqual({ workflowBundle: { codePath: bundle() } });
});

test('a compiled file newer than the bundle, however deep, makes the worker bundle for itself and say why', () => {
  write('workflow-bundle.js', 2_000);
  write('policy/chain.js', 3_000);
  const code = workflowCode(bundle());
  expect(code).toMatchObject({ why: `${join(dist, 'policy/chain.js')} is newer than the prebuilt bundle` });
  expect('workflowsPath' in code && code.workflowsPath).toMatch(/workflows/);
});

test('no bundle: the worker bundles for itself', () => {
  expect(workflowCode(bundle())).toMatchObject({ why: expect.stringContaining(`no usable prebuilt bundle at ${bundle()}`) });
});

test('a bundle made from another version of the workflow runtime (an upgrade without a rebuild) is not used', () => {
  write('workflow-bundle.js', 1_000);
  manifest({ ...bundledPackageVersions(), '@temporalio/workflow': '0.0.1' });
  expect(workflowCode(bundle())).toMatchObject({ why: expect.stringMatching(/holds @temporalio\/workflow 0\.0\.1, \d+\.\d+\.\d+ is installed/) });
});

test('a bundle without its manifest is not used', () => {
  write('workflow-bundle.js', 1_000);
  rmSync(join(dist, 'workflow-bundle.json'));
  expect(workflowCode(bundle())).toMatchObject({ why: expect.stringContaining('no usable prebuilt bundle') });
});

test('the build made the bundle last, so the built worker loads it', () => {
  const built = join(__dirname, '..', '..', 'dist', 'workflow-bundle.js');
  expect(workflowCode(built)).toEqual({ workflowBundle: { codePath: built } });
});
