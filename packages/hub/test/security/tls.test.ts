/**
 * TLS with real clients: mosquitto_pub over MQTTS (CA file, then a device client
 * certificate whose CN is the device id), Python websockets over WSS, HTTPS, and
 * certificate reload without a restart. Certificates come from `fieldlink cert dev`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import https from 'node:https';
import type tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { runCert } from '../../src/cli/cert.js';
import { until } from '../helpers.js';
import { securedHub, type Secured } from './fixture.js';
import { mqttTlsConnack } from './peers.js';

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const dir = mkdtempSync(join(tmpdir(), 'fl-tls-'));
const f = (name: string) => join(dir, name);
let s: Secured;

function run(cmd: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args);
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('exit', (code) => resolve({ code, out }));
  });
}

before(async () => {
  const log = console.log;
  console.log = () => undefined;
  await runCert(['dev', '--out', dir, '--hosts', 'localhost,127.0.0.1', '--device', 'dev-1']);
  console.log = log;
  s = await securedHub({ tlsCert: f('server.pem'), tlsKey: f('server-key.pem'), tlsCa: f('ca.pem'), tlsClientAuth: 'optional', mqttsPort: -1 });
});
after(async () => {
  await s.stop();
});

function wssBrowser(): Promise<WebSocket & { got: { topic?: string; payload?: unknown }[] }> {
  const ws = Object.assign(new WebSocket(`wss://localhost:${s.hub.httpPort}/ws`, { ca: readFileSync(f('ca.pem')) }), { got: [] as { topic?: string; payload?: unknown }[] });
  ws.on('message', (d) => ws.got.push(JSON.parse(d.toString())));
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => {
      ws.send(JSON.stringify({ op: 'auth', id: 'a', token: s.tokens.viewer }));
      ws.send(JSON.stringify({ op: 'sub', id: 's', filter: 'devices/+/telemetry' }));
      resolve(ws);
    });
  });
}

test('MQTTS with mosquitto_pub --cafile and a device secret; a browser on WSS receives it', async () => {
  assert.ok(s.hub.url.startsWith('https://') && s.hub.mqttsPort > 0);
  const b = await wssBrowser();
  await until(() => b.got.some((g) => (g as { id?: string }).id === 's'));
  const r = await run('mosquitto_pub', ['-h', 'localhost', '-p', String(s.hub.mqttsPort), '--cafile', f('ca.pem'), '-i', 'd1', '-u', 'd1', '-P', s.secret.d1, '-q', '1', '-t', 'devices/d1/telemetry', '-m', '{"lux":5.5}']);
  assert.equal(r.code, 0, r.out);
  await until(() => b.got.some((g) => g.topic === 'devices/d1/telemetry'));
  const bad = await run('mosquitto_pub', ['-h', 'localhost', '-p', String(s.hub.mqttsPort), '--cafile', f('ca.pem'), '-u', 'd1', '-P', 'wrong', '-t', 'devices/d1/telemetry', '-m', '1']);
  assert.notEqual(bad.code, 0, 'a wrong secret is refused over TLS too');
  b.close();
});

test('MQTTS client certificate: the CN is the device id, no password needed, and it is still only that device', async () => {
  const b = await wssBrowser();
  await until(() => b.got.some((g) => (g as { id?: string }).id === 's'));
  const certArgs = ['-h', 'localhost', '-p', String(s.hub.mqttsPort), '--cafile', f('ca.pem'), '--cert', f('device-dev-1.pem'), '--key', f('device-dev-1-key.pem'), '-i', 'dev-1', '-q', '1'];
  assert.equal((await run('mosquitto_pub', [...certArgs, '-t', 'devices/d1/telemetry', '-m', '{"lux":-1}'])).code, 0, 'acknowledged…');
  assert.equal((await run('mosquitto_pub', [...certArgs, '-t', 'devices/dev-1/telemetry', '-m', '{"lux":7}'])).code, 0);
  await until(() => b.got.some((g) => g.topic === 'devices/dev-1/telemetry'));
  assert.ok(!b.got.some((g) => (g.payload as { lux?: number })?.lux === -1), '…but dev-1 cannot publish as d1');
  b.close();
});

test('Python websockets over WSS with an SSL context', async () => {
  const script = fileURLToPath(new URL('../fixtures/wss_client.py', import.meta.url));
  const r = await run(PYTHON, [script, `wss://localhost:${s.hub.httpPort}/ws`, f('ca.pem'), s.tokens.viewer]);
  assert.equal(r.code, 0, r.out);
  const [auth, ping] = r.out.trim().split('\n').map((l) => JSON.parse(l) as { ok: boolean; result: { identity?: { role: string } } });
  assert.equal(auth!.result.identity?.role, 'viewer');
  assert.equal(ping!.ok, true);
});

test('HTTPS serves the API; plain HTTP on the same port is refused; certificates reload without a restart', async () => {
  const get = () =>
    new Promise<{ status: number; fingerprint: string }>((resolve, reject) => {
      const req = https.get({ host: 'localhost', port: s.hub.httpPort, path: '/healthz', ca: readFileSync(f('ca.pem')), agent: false }, (res) => {
        const fp = (res.socket as tls.TLSSocket).getPeerCertificate().fingerprint256;
        res.resume();
        resolve({ status: res.statusCode ?? 0, fingerprint: fp });
      });
      req.on('error', reject);
    });
  const first = await get();
  assert.equal(first.status, 200);
  await assert.rejects(fetch(`http://127.0.0.1:${s.hub.httpPort}/healthz`));
  const log = console.log;
  console.log = () => undefined;
  await runCert(['dev', '--out', dir, '--hosts', 'localhost,127.0.0.1']); // new CA and server certificate
  console.log = log;
  s.hub.reloadTls();
  const second = await get();
  assert.equal(second.status, 200);
  assert.notEqual(second.fingerprint, first.fingerprint, 'new connections get the new certificate');
});

test('MQTTS: 200 concurrent CONNECTs guessing one password: only the free failures are checked, the password is not found (guessing.test.ts has the other doors)', async () => {
  const pw = await s.addUser('g-mqtts');
  const ca = readFileSync(f('ca.pem'));
  const before = s.hub.security.authenticator.counters.scryptChecks;
  const rcs = await Promise.all(Array.from({ length: 200 }, (_, i) => mqttTlsConnack(s.hub.mqttsPort, ca, 'g-mqtts', i === 120 ? pw : `guess-${i}`, '127.0.0.16', `g${i}`)));
  const checked = s.hub.security.authenticator.counters.scryptChecks - before;
  assert.ok(checked >= 5 && checked <= 7, `${checked} passwords checked`); // --auth-free-failures (5), and one more if a wait ends meanwhile
  assert.ok(!rcs.includes(0));
  assert.ok(rcs.filter((rc) => rc === 5).length >= 193, rcs.join(','));
  assert.equal(await mqttTlsConnack(s.hub.mqttsPort, ca, 'g-mqtts', pw, '127.0.0.1'), 0, 'the user from its own address gets in');
});
