// Node-RED for the integration test (test/e2e/node-red.test.ts runs the recipe
// of docs/integrations.md in it). Not a project dependency: a pinned version is
// installed from the npm registry with `npm install --prefix` into a cache
// outside the repository, like nginx (nginx-peer.mjs). Idempotent: when the
// pinned version is already there nothing is run at all; otherwise the install
// goes to a fresh directory that replaces the cached one only once it runs, so
// a half-done earlier attempt never lingers. About 20 s and 120 MB the first time.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The version the recipe is tested with (4.x: Node-RED 5 needs Node 22, the project supports Node 20). */
export const NODE_RED_VERSION = '4.1.15';
const cacheHome = process.env.XDG_CACHE_HOME || join(process.env.HOME || homedir(), '.cache');
export const NODE_RED_CACHE = join(cacheHome, 'fieldlink', 'node-red');
/** The entry point (`node-red` is `red.js`), run with this Node. */
export const NODE_RED_JS = join(NODE_RED_CACHE, 'node_modules', 'node-red', 'red.js');

/** The installed version in the cache, or undefined. */
export function nodeRedVersion() {
  try {
    return JSON.parse(readFileSync(join(NODE_RED_CACHE, 'node_modules', 'node-red', 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

export const nodeRedPresent = () => nodeRedVersion() === NODE_RED_VERSION && existsSync(NODE_RED_JS);

export const nodeRedMissingLine = () =>
  `fieldlink tests need Node-RED ${NODE_RED_VERSION} in ${NODE_RED_CACHE}: run \`node scripts/peers.mjs\` (it runs \`npm install --prefix ${NODE_RED_CACHE} node-red@${NODE_RED_VERSION}\`), then npm test again`;

/**
 * Installs the pinned Node-RED unless it is there. Returns { ok, installed } or
 * { ok: false, error } with one line saying what failed.
 */
export function ensureNodeRed({ log = () => undefined } = {}) {
  if (nodeRedPresent()) return { ok: true, installed: false };
  log(`fieldlink tests: installing node-red@${NODE_RED_VERSION} from the npm registry into ${NODE_RED_CACHE} (not a project dependency)`);
  const parent = join(cacheHome, 'fieldlink');
  mkdirSync(parent, { recursive: true });
  const work = mkdtempSync(join(parent, 'node-red-tmp-'));
  try {
    // `npm test` runs this as its pretest: the outer npm's settings (workspaces, prefix) must not reach this install.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_(config_(prefix|local_prefix|global_prefix|workspaces?|include_workspace_root)|package_|lifecycle_)/i.test(k)));
    const r = spawnSync('npm', ['install', '--prefix', work, '--save-exact', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error', `node-red@${NODE_RED_VERSION}`],
      { cwd: work, env, stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) return { ok: false, error: `\`npm install --prefix … node-red@${NODE_RED_VERSION}\` failed (exit ${r.status ?? r.error})` };
    rmSync(NODE_RED_CACHE, { recursive: true, force: true });
    renameSync(work, NODE_RED_CACHE);
    const v = spawnSync(process.execPath, [NODE_RED_JS, '--help'], { encoding: 'utf8' });
    if (v.status !== 0) return { ok: false, error: `the installed ${NODE_RED_JS} does not run (exit ${v.status}): ${(v.stderr || String(v.error)).trim().split('\n').pop()}` };
    return { ok: true, installed: true };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
