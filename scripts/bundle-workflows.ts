/**
 * The build's last step (`npm run build`): bundles the session workflows once
 * into dist/workflow-bundle.js, with a manifest of the workflow runtime's
 * versions beside it, which workers load instead of running webpack at every
 * start (lib/workflow-bundle.ts).
 */
import { renameSync, writeFileSync } from 'node:fs';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_BUNDLE_FILE, bundledPackageVersions, manifestFileOf, workflowBundleSources } from '../lib/workflow-bundle';

/** Written under another name, then renamed: a worker starting meanwhile never reads half a bundle. */
function writeAtomically(file: string, text: string): void {
  const partial = `${file}.${process.pid}.partial`;
  writeFileSync(partial, text);
  renameSync(partial, file);
}

async function main(): Promise<void> {
  const quiet = () => undefined;
  const { code } = await bundleWorkflowCode({
    ...workflowBundleSources(),
    logger: { trace: quiet, debug: quiet, info: quiet, log: quiet, warn: console.warn, error: console.error },
  });
  writeAtomically(manifestFileOf(WORKFLOW_BUNDLE_FILE), `${JSON.stringify({ packages: bundledPackageVersions() }, null, 2)}\n`);
  writeAtomically(WORKFLOW_BUNDLE_FILE, code);
}

main().catch((err: unknown) => {
  console.error(`bundle-workflows: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
