/**
 * Issue 14: no import cycle between top-level folders. A folder may use another only if that one
 * does not use it back, directly or through others; type-only imports do not count (they are gone
 * at run time). Tests are left out: they may import anything.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const SKIP = new Set(['node_modules', 'dist', '.tools', '.git', 'data', 'test', 'docs', 'examples']);

function sources(dir = ROOT): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (SKIP.has(name)) return [];
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [p] : [];
  });
}

const folderOf = (file: string) => relative(ROOT, file).split('/')[0].replace(/\.ts$/, '');

/** Folder → the folders its value imports and re-exports reach. */
function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sources()) {
    const from = folderOf(file);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(/^(?:import|export) (?!type )[^;]*?from '(\.[^']+)'/gm)) {
      const to = folderOf(resolve(dirname(file), spec));
      if (to !== from) graph.set(from, (graph.get(from) ?? new Set()).add(to));
    }
  }
  return graph;
}

/** Every cycle, as the folders on it. */
function cycles(graph: Map<string, Set<string>>): string[][] {
  const found: string[][] = [];
  const walk = (path: string[]) => {
    for (const next of graph.get(path[path.length - 1]) ?? []) {
      if (next === path[0]) found.push([...path, next]);
      else if (!path.includes(next) && next > path[0]) walk([...path, next]);
    }
  };
  for (const start of graph.keys()) walk([start]);
  return found;
}

test('the folders import one another without a cycle', () => {
  const graph = folderGraph();
  expect(graph.get('worker')).toBeDefined();
  expect(cycles(graph).map((c) => c.join(' → '))).toEqual([]);
});

test('the check finds a cycle when there is one', () => {
  const graph = new Map([
    ['a', new Set(['b'])],
    ['b', new Set(['c'])],
    ['c', new Set(['a'])],
  ]);
  expect(cycles(graph)).toEqual([['a', 'b', 'c', 'a']]);
});
