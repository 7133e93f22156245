/**
 * Issue 14: the nodes keep n8n's Postgres v2 layout. Every actions/otp/<value>.operation.ts exports its
 * option, description and execute; the selector lists exactly those; each operation's description is
 * exactly the fields the editor shows for it; the node's properties are the union the resource builds.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { INodeProperties, INodeType } from 'n8n-workflow';
import { optionsCollection } from '../../nodes/SendOtp/actions/common.descriptions';
import * as sendResource from '../../nodes/SendOtp/actions/otp';
import { SendOtp } from '../../nodes/SendOtp/SendOtp.node';
import { commonFields } from '../../nodes/VerifyOtp/actions/common.descriptions';
import * as verifyResource from '../../nodes/VerifyOtp/actions/otp';
import { VerifyOtp } from '../../nodes/VerifyOtp/VerifyOtp.node';

const ROOT = join(__dirname, '..', '..');

interface Operation {
  option: { name: string; value: unknown };
  description: INodeProperties[];
  execute: unknown;
}

interface Resource {
  operations: Record<string, Operation>;
  operationSelector: INodeProperties;
  description: INodeProperties[];
}

const NODES: { name: string; node: INodeType; resource: Resource; folder: string; common: INodeProperties[] }[] = [
  { name: 'Send OTP', node: new SendOtp(), resource: sendResource, folder: 'nodes/SendOtp/actions/otp', common: [optionsCollection] },
  { name: 'Verify OTP', node: new VerifyOtp(), resource: verifyResource, folder: 'nodes/VerifyOtp/actions/otp', common: commonFields },
];

describe.each(NODES)('$name', ({ node, resource, folder, common }) => {
  const files = readdirSync(join(ROOT, folder)).filter((f) => f.endsWith('.operation.ts'));
  const ops = Object.values(resource.operations);
  const selector = resource.operationSelector;

  test('every <value>.operation.ts exports option, description and execute, and the resource routes to each', async () => {
    expect(files.length).toBeGreaterThan(1);
    expect(Object.keys(resource.operations).sort()).toEqual(files.map((f) => f.replace('.operation.ts', '')).sort());
    for (const file of files) {
      const op = (await import(join(ROOT, folder, file))) as Operation;
      expect(typeof op.execute).toBe('function');
      expect(Array.isArray(op.description)).toBe(true);
      expect(op.option.value).toBe(file.replace('.operation.ts', ''));
      expect(resource.operations[file.replace('.operation.ts', '')]).toBe(op);
    }
  });

  test("the selector offers exactly the operations, sorted by name (n8n's lint rule)", () => {
    const options = selector.options as { name: string; value: string }[];
    expect(options.map((o) => o.value).sort()).toEqual(Object.keys(resource.operations).sort());
    expect(options.map((o) => o.name)).toEqual(options.map((o) => o.name).sort((a, b) => a.localeCompare(b, 'en')));
    expect(options).toEqual(expect.arrayContaining(ops.map((op) => op.option)));
  });

  test("the node's properties are the union the resource builds: the selector, each operation's fields once, the common fields", () => {
    const properties = node.description.properties;
    expect(properties).toBe(resource.description);
    expect(properties).toEqual([selector, ...new Set(ops.flatMap((op) => op.description)), ...common]);
    // The same objects, not copies: a field several operations show is one property.
    expect(new Set(properties).size).toBe(properties.length);
  });

  test("an operation's description holds exactly the fields its displayOptions show it for", () => {
    for (const property of node.description.properties) {
      if (property === selector) continue;
      const shownFor = property.displayOptions?.show?.[selector.name] as string[] | undefined;
      const listedBy = Object.entries(resource.operations)
        .filter(([, op]) => op.description.includes(property))
        .map(([value]) => value);
      // A field with no operation condition shows for every operation: it is the resource's, in no operation's list.
      expect([property.name, listedBy.sort()]).toEqual([property.name, [...(shownFor ?? [])].sort()]);
      expect(common.includes(property)).toBe(shownFor === undefined);
    }
  });
});

test("the nodes load the credential's parser, not the worker's settings table (config/config)", () => {
  const script = [
    "require('./dist/nodes/SendOtp/SendOtp.node.js');",
    "require('./dist/nodes/VerifyOtp/VerifyOtp.node.js');",
    "console.log(JSON.stringify(Object.keys(require.cache).filter((f) => f.includes('/dist/config/')).map((f) => f.split('/dist/')[1])));",
  ].join('');
  if (!existsSync(join(ROOT, 'dist', 'nodes'))) throw new Error('dist/nodes is missing: run npm run build first');
  const loaded = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' })) as string[];
  expect(loaded).toEqual(['config/client-settings.js']);
});
