#!/usr/bin/env node
// The Debian packages the tests talk to (real peers, design.md), checked before
// `npm test` runs anything (the root "pretest" script):
//   - all present: nothing happens;
//   - some missing, running as root with apt-get: `apt-get update` and
//     `apt-get install -y --no-install-recommends …`, progress on the terminal;
//   - some missing otherwise (not root, no apt-get): exit 1 at once with ONE line
//     that says exactly what to install.
// Tests that need a peer call the same table (test/e2e/peers.ts, requirePeers) and
// fail with that line: a missing peer is never a silently skipped test.
// nginx is not installed as a service: `apt-get download` (no root needed) and
// `dpkg -x` unpack Debian's binary into a cache outside the repository
// (nginx-peer.mjs). PostgreSQL is a service the tests connect to
// (postgres-peer.mjs): started, or installed and configured, when this runs as
// root; otherwise one line says what to do. Node-RED (the integration recipe's
// test) comes from the npm registry, pinned, into a cache outside the repository
// (node-red-peer.mjs; no root needed). README "Development".
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NGINX_CACHE, nginxBinary, unpackNginx } from './nginx-peer.mjs';
import { ensurePostgres } from './postgres-peer.mjs';
import { ensureNodeRed } from './node-red-peer.mjs';

export const PYTHON = '/usr/bin/python3';

const onPath = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const pyImports = (mod) => existsSync(PYTHON) && spawnSync(PYTHON, ['-c', `import ${mod}`], { stdio: 'ignore' }).status === 0;

/** Debian package → what uses it and how to tell it is there. */
export const PEERS = [
  { pkg: 'chromium', for: 'the page tests (headless, through playwright-core)', present: () => existsSync('/usr/bin/chromium') },
  { pkg: 'mosquitto', for: 'the external-bus and fleet tests', present: () => existsSync('/usr/sbin/mosquitto') },
  { pkg: 'mosquitto-clients', for: 'mosquitto_pub/mosquitto_sub peers', present: () => onPath('mosquitto_pub') && onPath('mosquitto_sub') },
  { pkg: 'python3-paho-mqtt', for: 'examples/python/mqtt_client.py and the paho peer', present: () => pyImports('paho.mqtt.client') },
  { pkg: 'python3-websockets', for: 'examples/python/ws_client.py and fieldlink_browser.py', present: () => pyImports('websockets') },
  { pkg: 'python3-flask', for: 'examples/python/flask_app.py', present: () => pyImports('flask') },
  { pkg: 'systemd', for: 'systemd-analyze verify of deploy/*.service', present: () => onPath('systemd-analyze') },
  // Unpacked, not installed: `unpack` names the .debs (nginx-peer.mjs).
  { pkg: 'nginx', for: 'the reverse-proxy test (docs/deployment.md)', present: () => nginxBinary() !== undefined, unpack: ['nginx', 'nginx-common'] },
];

const isUnpacked = (pkg) => PEERS.some((p) => p.pkg === pkg && p.unpack);

/** The packages among `names` (all by default) that are not installed. */
export function missingPeers(names = PEERS.map((p) => p.pkg)) {
  return PEERS.filter((p) => names.includes(p.pkg) && !p.present()).map((p) => p.pkg);
}

export const installCommand = (missing) => `apt-get install -y --no-install-recommends ${missing.join(' ')}`;

/**
 * The one line a user reads when the peers cannot be had for them. Unpacked
 * peers (nginx) need no root: with apt-get, `npm test` fetches them itself.
 */
export function missingLine(missing, { isRoot = false, hasApt = true } = {}) {
  const apt = missing.filter((p) => !isUnpacked(p));
  const unpacked = missing.filter(isUnpacked);
  const sudo = isRoot ? '' : 'sudo ';
  const parts = [];
  if (apt.length) parts.push(hasApt ? `run \`${sudo}apt-get update && ${sudo}${installCommand(apt)}\`` : `install the Debian/Ubuntu packages ${apt.join(' ')} (or your system's equivalents)`);
  if (unpacked.length) {
    parts.push(hasApt
      ? `run \`node scripts/peers.mjs\` (it unpacks Debian's ${unpacked.join(' ')} into ${NGINX_CACHE}, no service; if apt-get cannot find it, \`${sudo}apt-get update\` first) or set FIELDLINK_NGINX to an nginx binary`
      : `install ${unpacked.join(' ')} or set FIELDLINK_NGINX to an nginx binary`);
  }
  return `fieldlink tests need ${missing.join(', ')}: ${parts.join('; ')}, then npm test again`;
}

/**
 * What to do: the decision alone, so it can be tested without root or apt.
 * `install` apt-installs `packages` (root) and unpacks `unpack` (no root needed).
 */
export function plan({ missing, isRoot, hasApt }) {
  if (missing.length === 0) return { action: 'none' };
  const apt = missing.filter((p) => !isUnpacked(p));
  const unpack = missing.filter(isUnpacked);
  if (hasApt && (isRoot || apt.length === 0)) return { action: 'install', packages: apt, unpack };
  return { action: 'fail', line: missingLine(missing, { isRoot, hasApt }) };
}

async function main() {
  const isRoot = process.getuid?.() === 0;
  const hasApt = onPath('apt-get') && onPath('dpkg-deb');
  const missing = missingPeers();
  const decision = plan({ missing, isRoot, hasApt });
  if (decision.action === 'fail') {
    console.error(decision.line);
    return 1;
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let updated = false;
  if (decision.action === 'install' && decision.packages.length) {
    console.error(`fieldlink tests: installing the Debian packages they use: ${decision.packages.join(' ')}`);
    for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...decision.packages]]) {
      const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
      if (r.status !== 0) {
        console.error(`fieldlink tests: \`apt-get ${args.join(' ')}\` failed (exit ${r.status}); ${missingLine(decision.packages, { isRoot: true })}`);
        return 1;
      }
    }
    updated = true;
  }
  if (decision.action === 'install' && decision.unpack.length) {
    const debs = PEERS.filter((p) => decision.unpack.includes(p.pkg)).flatMap((p) => p.unpack);
    console.error(`fieldlink tests: unpacking Debian's ${debs.join(' ')} into ${NGINX_CACHE} (no service installed)`);
    let r = unpackNginx(debs);
    if (!r.ok && isRoot && !updated) {
      // A fresh image has no package lists yet: root can fetch them and try again.
      spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
      r = unpackNginx(debs);
    }
    if (!r.ok) console.error(`fieldlink tests: ${r.error}`);
  }
  const still = missingPeers();
  if (still.length) {
    console.error(missingLine(still, { isRoot, hasApt }));
    return 1;
  }
  const red = ensureNodeRed({ log: (line) => console.error(line) });
  if (!red.ok) {
    console.error(`fieldlink tests: ${red.error}`);
    return 1;
  }
  return (await ensurePostgres({ isRoot, hasApt, log: (line) => console.error(line) })) ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exit(await main());
