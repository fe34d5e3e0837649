/**
 * scripts/peers.mjs, the "pretest" step: its decisions (nothing / install /
 * unpack nginx / start or install PostgreSQL / fail with one line) as pure
 * functions and with injected probes, and the script itself run as a user who
 * cannot install (not root) on a PATH where some peers are missing: it exits 1
 * at once with the one line naming exactly those packages, and installs nothing.
 * The real PostgreSQL effects run only in their no-op form (the machine's server
 * is up and shared: it is never stopped or reinstalled to test this).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PEERS, missingLine, missingPeers, plan } from '../../scripts/peers.mjs';
import { nginxBinary, UNPACKED_NGINX } from '../../scripts/nginx-peer.mjs';
import { DEFAULT_PG_URL, HBA_LINES, ensurePostgres, installedClusters, planPostgres, systemPostgres, type PgProbe, type PostgresSystem } from '../../scripts/postgres-peer.mjs';

const SCRIPT = fileURLToPath(new URL('../../scripts/peers.mjs', import.meta.url));

test('peers: the decision for each situation', () => {
  assert.deepEqual(plan({ missing: [], isRoot: false, hasApt: false }), { action: 'none' });
  assert.deepEqual(plan({ missing: ['chromium', 'python3-flask'], isRoot: true, hasApt: true }), { action: 'install', packages: ['chromium', 'python3-flask'], unpack: [] });
  // nginx is unpacked, not installed: no root needed, only apt-get download.
  assert.deepEqual(plan({ missing: ['nginx'], isRoot: false, hasApt: true }), { action: 'install', packages: [], unpack: ['nginx'] });
  assert.deepEqual(plan({ missing: ['chromium', 'nginx'], isRoot: true, hasApt: true }), { action: 'install', packages: ['chromium'], unpack: ['nginx'] });
  const mixed = plan({ missing: ['chromium', 'nginx'], isRoot: false, hasApt: true });
  assert.equal(mixed.action, 'fail');
  assert.match((mixed as { line: string }).line, /sudo apt-get install -y --no-install-recommends chromium`; run `node scripts\/peers\.mjs` \(it unpacks Debian's nginx into .*FIELDLINK_NGINX/);
  const nginxNoApt = plan({ missing: ['nginx'], isRoot: true, hasApt: false });
  assert.equal(nginxNoApt.action, 'fail');
  assert.match((nginxNoApt as { line: string }).line, /^fieldlink tests need nginx: install nginx or set FIELDLINK_NGINX/);
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
  assert.deepEqual(PEERS.map((p) => p.pkg).sort(), ['chromium', 'mosquitto', 'mosquitto-clients', 'nginx', 'python3-flask', 'python3-paho-mqtt', 'python3-websockets', 'systemd']);
  // After `npm test`'s pretest this machine has them all; a missing one here fails with the line.
  const missing = missingPeers();
  assert.deepEqual(missing, [], missing.length ? missingLine(missing) : '');
});

test('peers: not root and peers missing: exit 1 at once with the one line, nothing installed', { timeout: 60_000 }, () => {
  assert.ok(existsSync('/usr/bin/setpriv'), 'setpriv (util-linux) runs the script as nobody');
  // A PATH with sh and apt-get but without mosquitto_pub/mosquitto_sub and systemd-analyze.
  const bin = mkdtempSync(join(tmpdir(), 'fl-peers-path-'));
  chmodSync(bin, 0o755);
  for (const tool of ['sh', 'apt-get', 'dpkg-deb']) {
    const real = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    assert.ok(real, `${tool} on this machine`);
    symlinkSync(real, join(bin, tool));
  }
  // nginx is given (FIELDLINK_NGINX, a copy nobody can reach): nobody's cache is not this user's.
  const ngx = nginxBinary();
  assert.ok(ngx, missingLine(['nginx']));
  copyFileSync(ngx, join(bin, 'nginx'));
  const r = spawnSync('/usr/bin/setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, SCRIPT], { encoding: 'utf8', env: { PATH: bin, FIELDLINK_NGINX: join(bin, 'nginx') }, timeout: 30_000 });
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.equal(lines[0], missingLine(['mosquitto-clients', 'systemd'], { isRoot: false, hasApt: true }));
  assert.equal(r.stdout, '', 'no apt-get output: nothing was attempted');
});

test('peers: nginx is the unpacked Debian binary (or FIELDLINK_NGINX), and it runs', () => {
  const bin = nginxBinary();
  assert.ok(bin, missingLine(['nginx']));
  if (!process.env.FIELDLINK_NGINX && !existsSync('/usr/sbin/nginx')) assert.equal(bin, UNPACKED_NGINX, 'the cache outside the repository');
  const v = spawnSync(bin, ['-v'], { encoding: 'utf8' });
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stderr, /nginx version: nginx\//);
});

const up: PgProbe = { ok: true };
const down: PgProbe = { ok: false, answered: false, reason: 'connect ECONNREFUSED 127.0.0.1:5432' };
const refused: PgProbe = { ok: false, answered: true, reason: 'database "test" does not exist' };

test('peers: the PostgreSQL decision: reachable / installed-not-running / not installed × root with apt or not', () => {
  const base = { custom: false, clusters: [] as string[], isRoot: true, hasApt: true };
  assert.deepEqual(planPostgres({ ...base, probe: up, isRoot: false, hasApt: false }), { action: 'none' });
  assert.deepEqual(planPostgres({ ...base, probe: down, clusters: ['15'] }), { action: 'start', version: '15' });
  assert.deepEqual(planPostgres({ ...base, probe: down, clusters: ['15'], hasApt: false }), { action: 'start', version: '15' });
  assert.deepEqual(planPostgres({ ...base, probe: down }), { action: 'install' });
  const lineOf = (d: ReturnType<typeof planPostgres>) => {
    assert.equal(d.action, 'fail');
    const line = (d as { line: string }).line;
    assert.ok(!line.includes('\n'), 'one line');
    assert.ok(line.startsWith(`fieldlink tests need PostgreSQL at ${DEFAULT_PG_URL} (`), line);
    return line;
  };
  assert.match(lineOf(planPostgres({ ...base, probe: down, clusters: ['15'], isRoot: false })), /ECONNREFUSED.*run `sudo pg_ctlcluster --skip-systemctl-redirect 15 main start`/);
  assert.match(lineOf(planPostgres({ ...base, probe: down, isRoot: false })), /run `sudo node scripts\/peers\.mjs` \(it installs Debian's postgresql/);
  assert.match(lineOf(planPostgres({ ...base, probe: down, hasApt: false })), /FIELDLINK_TEST_PG_URL/);
  // A server that answers but refuses us is not ours to reconfigure; a URL of one's own is not ours to start.
  assert.match(lineOf(planPostgres({ ...base, probe: refused, clusters: ['15'] })), /database "test" does not exist/);
  const custom = planPostgres({ ...base, probe: down, custom: true, clusters: ['15'] });
  assert.equal(custom.action, 'fail');
  assert.match((custom as { line: string }).line, /unset FIELDLINK_TEST_PG_URL/);
});

/** The effects as fakes: the probe answers after `upAfter` probes once started (Infinity: never). */
function fakeSystem(o: { clusters: string[]; upAfter?: number; installGives?: string[]; startFails?: boolean }) {
  const calls: string[] = [];
  let clusters = o.clusters, started = false, probes = 0;
  const sys: PostgresSystem = {
    probe: async () => (started && ++probes > (o.upAfter ?? 0) ? up : down),
    clusters: () => clusters,
    start: (v) => (calls.push(`start ${v}`), o.startFails ? { ok: false, error: 'pg_ctlcluster 15 main start failed (exit 1): boom' } : ((started = true), { ok: true })),
    install: () => (calls.push('install'), (clusters = o.installGives ?? []), { ok: true }),
    configure: (v) => (calls.push(`configure ${v}`), { ok: true }),
    sleep: async () => void calls.push('sleep'),
  };
  return { sys, calls };
}

test('peers: ensurePostgres with injected probes and effects', async () => {
  const logs: string[] = [];
  const log = (l: string) => void logs.push(l);
  // Installed, not running, root: started, then waited for (two probes in, it answers).
  let f = fakeSystem({ clusters: ['15'], upAfter: 2 });
  assert.equal(await ensurePostgres({ isRoot: true, hasApt: true, log, custom: false, sys: f.sys }), true);
  assert.deepEqual(f.calls, ['start 15', 'sleep', 'sleep']);
  // Never answers: bounded wait (30 probes), then the one line.
  f = fakeSystem({ clusters: ['15'], upAfter: Infinity });
  logs.length = 0;
  assert.equal(await ensurePostgres({ isRoot: true, hasApt: true, log, custom: false, sys: f.sys }), false);
  assert.equal(f.calls.filter((c) => c === 'sleep').length, 29);
  assert.match(logs.at(-1)!, /still not answering after 30 s/);
  // Start fails: the one line with pg_ctlcluster's error.
  f = fakeSystem({ clusters: ['15'], startFails: true });
  assert.equal(await ensurePostgres({ isRoot: true, hasApt: true, log, custom: false, sys: f.sys }), false);
  assert.match(logs.at(-1)!, /boom/);
  // Not installed, root with apt: install, start the new cluster, configure it, wait.
  f = fakeSystem({ clusters: [], installGives: ['15'] });
  assert.equal(await ensurePostgres({ isRoot: true, hasApt: true, log, custom: false, sys: f.sys }), true);
  assert.deepEqual(f.calls, ['install', 'start 15', 'configure 15']);
  // Not installed, not root: nothing attempted, one line.
  f = fakeSystem({ clusters: [] });
  logs.length = 0;
  assert.equal(await ensurePostgres({ isRoot: false, hasApt: true, log, custom: false, sys: f.sys }), false);
  assert.deepEqual(f.calls, []);
  assert.equal(logs.length, 1);
  assert.match(logs[0]!, /sudo node scripts\/peers\.mjs/);
});

test('peers: the real PostgreSQL path here is the no-op one (the server answers; start sees it online)', async () => {
  const clusters = installedClusters();
  assert.ok(clusters.length > 0, 'this machine has a Debian cluster');
  assert.deepEqual(await systemPostgres.probe(), { ok: true });
  assert.deepEqual(systemPostgres.start(clusters[0]!), { ok: true, already: true });
  const logs: string[] = [];
  assert.equal(await ensurePostgres({ isRoot: process.getuid?.() === 0, hasApt: true, log: (l) => void logs.push(l) }), true);
  assert.deepEqual(logs, []);
  // The lines configure() would add are the ones this machine's tests rely on: trust for postgres@127.0.0.1 on `test`.
  assert.deepEqual(HBA_LINES, ['host test postgres 127.0.0.1/32 trust', 'host test postgres ::1/128 trust']);
});
