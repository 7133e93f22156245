/**
 * What n8n loads of this package at run time: requires the node and credential
 * files that package.json's "n8n" field names (from dist, so build first) and
 * lists the npm packages that land in require.cache, and those our own files
 * import by name. `--json` prints {loaded, imported}.
 *
 * n8n installs a community package without its optionalDependencies, so
 * whatever the nodes load must be in "dependencies" (see test/unit/n8n-runtime-deps.test.ts).
 */
import Module, { isBuiltin } from 'node:module';
import { readFileSync } from 'node:fs';
import { join, sep } from 'node:path';

const ROOT = join(__dirname, __dirname.includes(join('dist', 'scripts')) ? '../..' : '..');

export interface RuntimeDeps {
  /** Every npm package with a module in require.cache after loading the nodes and credentials. */
  loaded: string[];
  /** Packages that a file of this package requires by name (not through another package). */
  imported: string[];
}

/** `@scope/name/sub/path` -> `@scope/name`; `name/sub` -> `name`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function packageOfFile(file: string): string | undefined {
  const marker = `${sep}node_modules${sep}`;
  const at = file.lastIndexOf(marker);
  return at < 0
    ? undefined
    : packageOf(
        file
          .slice(at + marker.length)
          .split(sep)
          .join('/'),
      );
}

export function n8nRuntimeDeps(root = ROOT): RuntimeDeps {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; n8n: { nodes: string[]; credentials: string[] } };
  const ownDist = join(root, 'dist') + sep;
  const imported = new Set<string>();
  // Records bare specifiers required from our own files; everything else is a package's own business.
  const proto = Module.prototype as unknown as { require(this: { filename: string }, id: string): unknown };
  const original = proto.require;
  proto.require = function (id) {
    if (this.filename.startsWith(ownDist) && !id.startsWith('.') && !id.startsWith('/') && !isBuiltin(id)) imported.add(packageOf(id));
    return original.call(this, id);
  };
  try {
    for (const file of [...pkg.n8n.nodes, ...pkg.n8n.credentials]) require(join(root, file));
  } finally {
    proto.require = original;
  }
  const loaded = new Set<string>();
  for (const file of Object.keys(require.cache)) {
    const name = packageOfFile(file);
    // Run from an installed copy, our own files sit under node_modules too.
    if (name && name !== pkg.name) loaded.add(name);
  }
  return { loaded: [...loaded].sort(), imported: [...imported].sort() };
}

if (require.main === module) {
  const deps = n8nRuntimeDeps();
  if (process.argv.includes('--json')) console.log(JSON.stringify(deps));
  else console.log(`imported by name:\n  ${deps.imported.join('\n  ')}\nloaded (${deps.loaded.length} packages):\n  ${deps.loaded.join('\n  ')}`);
}
