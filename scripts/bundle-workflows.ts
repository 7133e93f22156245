/**
 * The build's last step (`npm run build`): bundles the session workflows once
 * into dist/workflow-bundle.js, which workers load instead of running webpack
 * at every start (lib/workflow-bundle.ts).
 */
import { writeFileSync } from 'node:fs';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_BUNDLE_FILE, workflowBundleSources } from '../lib/workflow-bundle';

async function main(): Promise<void> {
  const quiet = () => undefined;
  const { code } = await bundleWorkflowCode({
    ...workflowBundleSources(),
    logger: { trace: quiet, debug: quiet, info: quiet, log: quiet, warn: console.warn, error: console.error },
  });
  writeFileSync(WORKFLOW_BUNDLE_FILE, code);
}

main().catch((err: unknown) => {
  console.error(`bundle-workflows: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
