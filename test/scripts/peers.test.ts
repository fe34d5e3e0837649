/**
 * scripts/peers.mjs, the "pretest" step: its decision (nothing / install / fail
 * with one line) as a pure function, and the script itself run as a user who
 * cannot install (not root) on a PATH where some peers are missing: it exits 1
 * at once with the one line naming exactly those packages, and installs nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PEERS, missingLine, missingPeers, plan } from '../../scripts/peers.mjs';

const SCRIPT = fileURLToPath(new URL('../../scripts/peers.mjs', import.meta.url));

test('peers: the decision for each situation', () => {
  assert.deepEqual(plan({ missing: [], isRoot: false, hasApt: false }), { action: 'none' });
  assert.deepEqual(plan({ missing: ['chromium', 'python3-flask'], isRoot: true, hasApt: true }), { action: 'install', packages: ['chromium', 'python3-flask'] });
  const notRoot = plan({ missing: ['chromium', 'python3-flask'], isRoot: false, hasApt: true });
  assert.equal(notRoot.action, 'fail');
  const line = (notRoot as { line: string }).line;
  assert.ok(!line.includes('\n'), 'one line');
  assert.match(line, /sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium python3-flask/);
  const noApt = plan({ missing: ['mosquitto-clients'], isRoot: true, hasApt: false });
  assert.equal(noApt.action, 'fail');
  assert.match((noApt as { line: string }).line, /mosquitto-clients/);
  assert.doesNotMatch((noApt as { line: string }).line, /apt-get install/);
});

test('peers: the table names every peer the brief lists, and they are all present here', () => {
  assert.deepEqual(PEERS.map((p) => p.pkg).sort(), ['chromium', 'mosquitto', 'mosquitto-clients', 'python3-flask', 'python3-paho-mqtt', 'python3-websockets', 'systemd']);
  // After `npm test`'s pretest this machine has them all; a missing one here fails with the line.
  const missing = missingPeers();
  assert.deepEqual(missing, [], missing.length ? missingLine(missing) : '');
});

test('peers: not root and peers missing: exit 1 at once with the one line, nothing installed', { timeout: 60_000 }, () => {
  assert.ok(existsSync('/usr/bin/setpriv'), 'setpriv (util-linux) runs the script as nobody');
  // A PATH with sh and apt-get but without mosquitto_pub/mosquitto_sub and systemd-analyze.
  const bin = mkdtempSync(join(tmpdir(), 'fl-peers-path-'));
  chmodSync(bin, 0o755);
  for (const tool of ['sh', 'apt-get']) {
    const real = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    assert.ok(real, `${tool} on this machine`);
    symlinkSync(real, join(bin, tool));
  }
  const r = spawnSync('/usr/bin/setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, SCRIPT], { encoding: 'utf8', env: { PATH: bin }, timeout: 30_000 });
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stderr.trim().split('\n').filter((l) => !l.includes('no PostgreSQL')); // that notice is not about packages
  assert.equal(lines.length, 1, r.stderr);
  assert.equal(lines[0], missingLine(['mosquitto-clients', 'systemd'], { isRoot: false, hasApt: true }));
  assert.equal(r.stdout, '', 'no apt-get output: nothing was attempted');
});
