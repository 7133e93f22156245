// n8n's own lint rules (@n8n/node-cli) for what n8n loads: the nodes, the
// credentials and package.json. The worker, workflows and tests are plain
// TypeScript checked by tsc. Self-hosted package: it needs @temporalio/client
// at run time, so the no-runtime-dependencies rule is off for package.json only.
import { configWithoutCloudSupport } from '@n8n/node-cli/eslint';
import { globalIgnores } from 'eslint/config';

export default [
  globalIgnores([
    'dist',
    'node_modules',
    '.tools',
    'data',
    'coverage',
    'docs',
    'examples',
    'bench',
    'chaos',
    'scripts',
    'sim',
    'test',
    'activities',
    'workflows',
    'smpp',
    'lib',
    'config',
    'codec',
    'dev',
    'policy',
    'contract',
    'client',
    'audit',
    'worker.ts',
    'jest.config.js',
    'eslint.config.mjs',
  ]),
  ...configWithoutCloudSupport,
  {
    files: ['package.json'],
    rules: { '@n8n/community-nodes/no-runtime-dependencies': 'off' },
  },
];
