/**
 * The workflow code as one webpack bundle, made by the build rather than by
 * each worker at start: bundling takes ~2 s of CPU and leaves ~85 MB of RSS
 * behind, paid again on every restart, when a restarted worker is needed most.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Where `npm run build` writes the bundle: dist/workflow-bundle.js (this module compiles to dist/lib/). */
export const WORKFLOW_BUNDLE_FILE = join(__dirname, '..', 'workflow-bundle.js');

/** What every bundle of the session workflows is made from: the build's, the tests' and a worker's own. */
export function workflowBundleSources(): { workflowsPath: string; failureConverterPath: string } {
  return {
    workflowsPath: require.resolve('../workflows'),
    failureConverterPath: require.resolve('../codec/failure-converter'),
  };
}

export type WorkflowCode = { workflowBundle: { codePath: string } } | { workflowsPath: string; why: string };

/**
 * The prebuilt bundle when it is at least as new as every other compiled file
 * beside it; otherwise the worker bundles for itself. `tsc` rewrites every
 * output, so a build that skipped the bundling step never runs old workflow code.
 */
export function workflowCode(bundleFile = WORKFLOW_BUNDLE_FILE): WorkflowCode {
  const { workflowsPath } = workflowBundleSources();
  let builtAt: number;
  try {
    builtAt = statSync(bundleFile).mtimeMs;
  } catch {
    return { workflowsPath, why: `no prebuilt bundle at ${bundleFile}` };
  }
  const newer = newestCompiledFile(join(bundleFile, '..'), bundleFile);
  if (newer && newer.mtimeMs > builtAt) return { workflowsPath, why: `${newer.path} is newer than the prebuilt bundle` };
  return { workflowBundle: { codePath: bundleFile } };
}

function newestCompiledFile(dir: string, except: string): { path: string; mtimeMs: number } | undefined {
  let newest: { path: string; mtimeMs: number } | undefined;
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.js') && path !== except) {
        const mtimeMs = statSync(path).mtimeMs;
        if (!newest || mtimeMs > newest.mtimeMs) newest = { path, mtimeMs };
      }
    }
  };
  walk(dir);
  return newest;
}
