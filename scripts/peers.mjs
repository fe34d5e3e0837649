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
// PostgreSQL is a configured service, not a package (a server, a database `test`,
// trust or a password for 127.0.0.1): this script does not install or configure
// it, it says in one line when it is not reachable, so the PostgreSQL tests'
// skips are never a surprise. .ci/run starts it; README "Development".
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';

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
];

/** The packages among `names` (all by default) that are not installed. */
export function missingPeers(names = PEERS.map((p) => p.pkg)) {
  return PEERS.filter((p) => names.includes(p.pkg) && !p.present()).map((p) => p.pkg);
}

export const installCommand = (missing) => `apt-get install -y --no-install-recommends ${missing.join(' ')}`;

/** The one line a user reads when the peers cannot be installed for them. */
export function missingLine(missing, { isRoot = false, hasApt = true } = {}) {
  const cmd = hasApt ? `${isRoot ? '' : 'sudo '}apt-get update && ${isRoot ? '' : 'sudo '}${installCommand(missing)}` : `install the Debian/Ubuntu packages ${missing.join(' ')} (or your system's equivalents)`;
  return `fieldlink tests need ${missing.join(', ')}: run \`${cmd}\`, then npm test again`;
}

/** What to do: the decision alone, so it can be tested without root or apt. */
export function plan({ missing, isRoot, hasApt }) {
  if (missing.length === 0) return { action: 'none' };
  if (isRoot && hasApt) return { action: 'install', packages: missing };
  return { action: 'fail', line: missingLine(missing, { isRoot, hasApt }) };
}

/** Resolves whether something accepts TCP connections on 127.0.0.1:5432 within a second. */
function postgresListening() {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port: 5432, timeout: 1000 });
    const done = (ok) => { s.destroy(); resolve(ok); };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.once('timeout', () => done(false));
  });
}

async function main() {
  if (!(await postgresListening())) {
    console.error('fieldlink tests: no PostgreSQL on 127.0.0.1:5432: the PostgreSQL store tests will be skipped (start one with database `test`, as .ci/run does, to run them)');
  }
  const missing = missingPeers();
  const decision = plan({ missing, isRoot: process.getuid?.() === 0, hasApt: onPath('apt-get') });
  if (decision.action === 'none') return 0;
  if (decision.action === 'fail') {
    console.error(decision.line);
    return 1;
  }
  console.error(`fieldlink tests: installing the Debian packages they use: ${decision.packages.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...decision.packages]]) {
    const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (r.status !== 0) {
      console.error(`fieldlink tests: \`apt-get ${args.join(' ')}\` failed (exit ${r.status}); ${missingLine(decision.packages, { isRoot: true })}`);
      return 1;
    }
  }
  const still = missingPeers();
  if (still.length) {
    console.error(missingLine(still, { isRoot: true }));
    return 1;
  }
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exit(await main());
