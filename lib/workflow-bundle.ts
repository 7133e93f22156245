/**
 * The workflow code as one webpack bundle, made by the build rather than by
 * each worker at start: bundling takes ~2 s of CPU and leaves ~85 MB of RSS
 * behind, paid again on every restart, when a restarted worker is needed most.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Where `npm run build` writes the bundle: dist/workflow-bundle.js (this module compiles to dist/lib/). */
export const WORKFLOW_BUNDLE_FILE = join(__dirname, '..', 'workflow-bundle.js');

/** The packages of the workflow runtime the bundle holds a copy of: an upgrade without a rebuild makes it stale. */
const BUNDLED_PACKAGES = ['@temporalio/workflow', '@temporalio/common'] as const;

/** What the build's bundle and the tests' are made from (a worker that bundles for itself takes the converter from its dataConverter, the same file). */
export function workflowBundleSources(): { workflowsPath: string; failureConverterPath: string } {
  return {
    workflowsPath: require.resolve('../workflows'),
    failureConverterPath: require.resolve('../codec/failure-converter'),
  };
}

/** The installed versions of the bundled packages, written beside the bundle and compared at start. */
export function bundledPackageVersions(): Record<string, string> {
  return Object.fromEntries(BUNDLED_PACKAGES.map((name) => [name, (require(`${name}/package.json`) as { version: string }).version]));
}

/** The manifest beside a bundle file: dist/workflow-bundle.json. */
export function manifestFileOf(bundleFile: string): string {
  return bundleFile.replace(/\.js$/, '.json');
}

export type WorkflowCode = { workflowBundle: { codePath: string } } | { workflowsPath: string; why: string };

/**
 * The prebuilt bundle when it is at least as new as every other compiled file
 * beside it and was made from the installed workflow runtime; otherwise the
 * worker bundles for itself. `tsc` rewrites every output, so a build that
 * skipped the bundling step never runs old workflow code.
 */
export function workflowCode(bundleFile = WORKFLOW_BUNDLE_FILE): WorkflowCode {
  const { workflowsPath } = workflowBundleSources();
  try {
    const builtAt = statSync(bundleFile).mtimeMs;
    const newer = newestCompiledFile(join(bundleFile, '..'), bundleFile);
    if (newer && newer.mtimeMs > builtAt) return { workflowsPath, why: `${newer.path} is newer than the prebuilt bundle` };
    const built = JSON.parse(readFileSync(manifestFileOf(bundleFile), 'utf8')) as { packages?: Record<string, string> };
    for (const [name, version] of Object.entries(bundledPackageVersions()))
      if (built.packages?.[name] !== version)
        return { workflowsPath, why: `the prebuilt bundle holds ${name} ${built.packages?.[name] ?? '(unknown)'}, ${version} is installed` };
    return { workflowBundle: { codePath: bundleFile } };
  } catch (err) {
    // No bundle, no manifest, or files moving under a build in progress: bundling at start is always right.
    return { workflowsPath, why: `no usable prebuilt bundle at ${bundleFile} (${err instanceof Error ? err.message : String(err)})` };
  }
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
