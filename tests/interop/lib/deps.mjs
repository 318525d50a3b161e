// Locates the third-party npm packages installed by scripts/setup-interop.sh.
//
// The packages live in <repo>/.tools/node/node_modules (git-ignored), not next
// to these scripts, so bare `import 'pkg'` would not find them. We resolve each
// package's entry point from that directory and import it by file URL; the
// packages' own imports then resolve normally inside that node_modules tree.
//
// Override the location with CARNET_INTEROP_NODE_DIR (the directory holding
// node_modules).
import {createRequire} from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..', '..');

export const nodeDir = process.env.CARNET_INTEROP_NODE_DIR ?
  path.resolve(process.env.CARNET_INTEROP_NODE_DIR) :
  path.join(repoRoot, '.tools', 'node');

const require = createRequire(path.join(nodeDir, 'package.json'));

function checkInstalled() {
  const marker = path.join(nodeDir, 'node_modules');
  if(!fs.existsSync(marker)) {
    throw new Error(
      `interop npm packages not installed: ${marker} is missing; ` +
      'run scripts/setup-interop.sh first (or set CARNET_INTEROP_NODE_DIR)');
  }
}

export async function load(name) {
  checkInstalled();
  return import(pathToFileURL(require.resolve(name)).href);
}

export function packageVersion(name) {
  checkInstalled();
  // read the file directly: packages with an "exports" map hide package.json
  const file = path.join(nodeDir, 'node_modules', ...name.split('/'), 'package.json');
  return JSON.parse(fs.readFileSync(file, 'utf8')).version;
}
