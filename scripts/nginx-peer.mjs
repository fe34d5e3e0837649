// nginx for the reverse-proxy test without a system service: Debian's .debs are
// fetched with `apt-get download` (works without root, from the configured
// package lists) and unpacked with `dpkg -x` into a cache outside the
// repository; nothing is configured or started here. The test runs the binary
// with its own prefix (-p), error log (-e) and config (-c), so the unpacked
// tree's compiled-in /etc/nginx and /var/log/nginx paths are never used, and it
// loads no modules (packages/hub/test/nginx.ts).
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';

const cacheHome = process.env.XDG_CACHE_HOME || join(process.env.HOME || homedir(), '.cache');
/** Where the .debs are unpacked: the binary is `${NGINX_CACHE}/root/usr/sbin/nginx`. */
export const NGINX_CACHE = join(cacheHome, 'fieldlink', 'nginx');
export const UNPACKED_NGINX = join(NGINX_CACHE, 'root', 'usr', 'sbin', 'nginx');

/** $FIELDLINK_NGINX, else an installed nginx, else the unpacked one; undefined when none is there. */
export function nginxBinary() {
  return [process.env.FIELDLINK_NGINX, '/usr/sbin/nginx', UNPACKED_NGINX].find((p) => Boolean(p) && existsSync(p));
}

/**
 * Downloads `debs` and unpacks them into NGINX_CACHE/root (replaced whole, so a
 * half-done earlier attempt never lingers), then checks that the binary runs.
 * Returns { ok } or { ok: false, error } with one line saying what failed.
 */
export function unpackNginx(debs = ['nginx', 'nginx-common']) {
  mkdirSync(NGINX_CACHE, { recursive: true });
  const work = mkdtempSync(join(NGINX_CACHE, 'tmp-'));
  try {
    const dl = spawnSync('apt-get', ['download', ...debs], { cwd: work, encoding: 'utf8' });
    if (dl.status !== 0) return { ok: false, error: `\`apt-get download ${debs.join(' ')}\` failed (exit ${dl.status}): ${lastLine(dl.stderr)}` };
    const tree = join(work, 'root');
    for (const deb of readdirSync(work).filter((f) => f.endsWith('.deb'))) {
      const x = spawnSync('dpkg-deb', ['-x', join(work, deb), tree], { encoding: 'utf8' });
      if (x.status !== 0) return { ok: false, error: `\`dpkg -x ${deb}\` failed (exit ${x.status}): ${lastLine(x.stderr)}` };
    }
    rmSync(join(NGINX_CACHE, 'root'), { recursive: true, force: true });
    renameSync(tree, join(NGINX_CACHE, 'root'));
    const v = spawnSync(UNPACKED_NGINX, ['-v'], { encoding: 'utf8' });
    if (v.status !== 0) return { ok: false, error: `the unpacked ${UNPACKED_NGINX} does not run (exit ${v.status}): ${lastLine(v.stderr || String(v.error))}` };
    return { ok: true };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const lastLine = (text) => (text ?? '').trim().split('\n').filter(Boolean).pop() ?? '';
