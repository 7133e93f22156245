// Copies node icons and codex files next to the compiled nodes (tsc only emits .js).
const { cpSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');
const root = join(__dirname, '..');
for (const dir of ['nodes', 'credentials']) {
  const walk = (rel) => {
    for (const name of readdirSync(join(root, rel))) {
      const path = join(rel, name);
      if (statSync(join(root, path)).isDirectory()) walk(path);
      else if (/\.(svg|png|json)$/.test(name)) cpSync(join(root, path), join(root, 'dist', path));
    }
  };
  try {
    walk(dir);
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
  }
}
