/**
 * The README's first command, as a newcomer runs it: the demo hub with three
 * simulated light sensors. A WebSocket client subscribed to devices/+/telemetry
 * receives the readings of all three (the time it took is reported, not asserted:
 * tests never assert on wall-clock time; on an idle machine it is about 1 s), and
 * after a restart the history from before it is still there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { WebSocket } from 'ws';
import { FieldlinkClient, type MsgPush } from '@fieldlink/protocol';

const MAIN = fileURLToPath(new URL('../../packages/hub/src/cli/main.ts', import.meta.url));

async function startDemo(dataDir: string, args = ['--simulate', '3', '--port', '0', '--mqtt-port', '-1']): Promise<{ child: ChildProcess; url: string; out: () => string }> {
  // As `npm start` does (`fieldlink hub --simulate 3`), on free ports: this machine already runs Mosquitto on 1883.
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, 'hub', ...args, '--data-dir', dataDir]);
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`hub did not start:\n${out}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"url":"(http:\/\/[^"]+)".*"msg":"hub listening"/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  });
  // The banner (stderr) follows the "hub listening" log line: wait for it.
  const deadline = Date.now() + 20_000;
  while (!/Ctrl-C stops it/.test(out) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return { child, url, out: () => out };
}

async function stop(child: ChildProcess): Promise<number | null> {
  child.kill('SIGTERM');
  return new Promise((r) => child.once('exit', (code) => r(code)));
}

test('demo: readings of all three sensors reach a WebSocket client, and survive a restart in the store', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fl-demo-'));
  let { child, url } = await startDemo(dataDir);
  const client = new FieldlinkClient({ url: `${url.replace('http', 'ws')}/ws`, WebSocket: WebSocket as never });
  await client.connect();
  const t0 = Date.now();
  const got: MsgPush[] = [];
  await client.subscribe('devices/+/telemetry', (m) => got.push(m));
  while (new Set(got.map((m) => m.topic)).size < 3 && Date.now() - t0 < 15_000) await new Promise((r) => setTimeout(r, 20));
  const elapsed = Date.now() - t0;
  t.diagnostic(`all three sensors seen ${elapsed} ms after subscribing`);
  assert.deepEqual([...new Set(got.map((m) => m.topic))].sort(), ['devices/sim-1/telemetry', 'devices/sim-2/telemetry', 'devices/sim-3/telemetry'], `within ${elapsed} ms`);
  const lux = (got[0]!.payload as { lux: number }).lux;
  assert.ok(typeof lux === 'number' && lux >= 0);
  client.close();
  // give the group commit a moment, then stop cleanly: nothing may be lost
  await new Promise((r) => setTimeout(r, 300));
  const before = Date.now();
  assert.equal(await stop(child), 0);

  ({ child, url } = await startDemo(dataDir));
  const res = await fetch(`${url}/api/v1/history?device=sim-1&metric=lux&from=${t0 - 60_000}&to=${before}`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as { points?: { ts: number; value: number }[] };
  assert.ok((body.points?.length ?? 0) >= 1, `points from before the restart: ${JSON.stringify(body).slice(0, 300)}`);
  assert.equal(await stop(child), 0);
});

/** Holds a listening socket on a free port of 127.0.0.1 (as Mosquitto holds 1883 on a developer's machine). */
async function occupy(): Promise<{ port: number; close(): Promise<void> }> {
  const srv = createServer((s) => s.destroy());
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { port: (srv.address() as AddressInfo).port, close: () => new Promise((r) => srv.close(() => r())) };
}

test('demo: npm start falls back to free ports when its ports are taken, and says which it chose', async () => {
  const http = await occupy();
  const mqtt = await occupy();
  const dataDir = mkdtempSync(join(tmpdir(), 'fl-demo-ports-'));
  try {
    // The start script's arguments (package.json "start"), with the taken ports in place of 8080 and 1883.
    const start = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')).scripts.start as string;
    const args = /fieldlink\.js (hub .*)$/.exec(start)![1]!.split(' ');
    assert.ok(args.includes('--fallback-ports'), `npm start passes --fallback-ports: ${start}`);
    const { child, url, out } = await startDemo(dataDir, [...args.slice(1), '--port', String(http.port), '--mqtt-port', String(mqtt.port)]);
    try {
      const chosen = Number(new URL(url).port);
      assert.notEqual(chosen, http.port);
      assert.match(out(), new RegExp(`port ${http.port} is taken`));
      assert.match(out(), new RegExp(`port ${mqtt.port} is taken`));
      const mqttLine = /MQTT\s+mqtt:\/\/[^:]+:(\d+)/.exec(out());
      assert.ok(mqttLine && Number(mqttLine[1]) !== mqtt.port && Number(mqttLine[1]) > 0, out());
      const page = await fetch(`${url}/`);
      assert.equal(page.status, 200, 'the dashboard answers on the chosen port');
      assert.match(await page.text(), /<html/i);
      const health = (await (await fetch(`${url}/healthz`)).json()) as { status: string };
      assert.equal(health.status, 'ok');
    } finally {
      assert.equal(await stop(child), 0);
    }
    // Without the option a taken port still stops the hub with the one-line error.
    const plain = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, 'hub', '--port', String(http.port), '--mqtt-port', '-1', '--data-dir', dataDir], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(plain.status, 2, plain.stderr);
    assert.match(plain.stderr, new RegExp(`port ${http.port} on 127\\.0\\.0\\.1 is already in use`));
  } finally {
    await http.close();
    await mqtt.close();
  }
});

test('npm install leaves npx fieldlink runnable: the bin runs the build that "prepare" made', () => {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.match(pkg.scripts.prepare ?? '', /^npm run build$/, 'npm install and npm ci run "prepare", which builds');
  const bin = join(root, 'node_modules/.bin/fieldlink'); // what npx runs: the workspace's bin, linked by npm
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, `${r.stderr}${r.stdout}`);
  const version = (JSON.parse(readFileSync(join(root, 'packages/hub/package.json'), 'utf8')) as { version: string }).version;
  assert.equal(r.stdout.trim(), version);
});

test('demo with --anonymous none: the simulated devices authenticate as devices; an authenticated viewer gets their readings, anonymous clients are refused', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fl-demo-auth-'));
  const made = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, 'token', 'create', '--role', 'viewer', '--data-dir', dataDir, '--json'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(made.status, 0, made.stderr);
  const { token } = JSON.parse(made.stdout) as { token: string };
  const { child, url, out } = await startDemo(dataDir, ['--simulate', '2', '--anonymous', 'none', '--port', '0', '--mqtt-port', '-1']);
  try {
    assert.equal(child.exitCode, null, out());
    const mqttPort = Number(/MQTT {8}mqtt:\/\/[^:]+:(\d+)/.exec(out())?.[1]);
    assert.ok(mqttPort > 0, out());
    const viewer = new FieldlinkClient({ url: `${url.replace('http', 'ws')}/ws`, WebSocket: WebSocket as never, token });
    await viewer.connect();
    const got: MsgPush[] = [];
    await viewer.subscribe('devices/+/telemetry', (m) => got.push(m));
    const t0 = Date.now();
    while (new Set(got.map((m) => m.topic)).size < 2 && Date.now() - t0 < 15_000) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual([...new Set(got.map((m) => m.topic))].sort(), ['devices/sim-1/telemetry', 'devices/sim-2/telemetry'], out());
    viewer.close();
    // Anonymous MQTT, with and without a device's client id, and an anonymous browser: refused.
    for (const clientId of ['sim-1', 'stranger']) {
      const c = mqtt.connect(`mqtt://127.0.0.1:${mqttPort}`, { clientId, reconnectPeriod: 0, connectTimeout: 10_000 });
      const err = await new Promise<Error | undefined>((resolve) => {
        c.once('connect', () => resolve(undefined));
        c.once('error', resolve);
      });
      c.end(true);
      assert.ok(err, `anonymous MQTT client ${clientId} was accepted`);
      assert.match(err.message, /Not authorized|Bad user name or password/);
    }
    const anon = new FieldlinkClient({ url: `${url.replace('http', 'ws')}/ws`, WebSocket: WebSocket as never });
    await assert.rejects(anon.connect().then(() => anon.subscribe('devices/+/telemetry', () => undefined)));
    anon.close();
    // The simulated devices kept publishing through all of it.
    const health = (await (await fetch(`${url}/healthz`, { headers: { authorization: `Bearer ${token}` } })).json()) as { devices?: { online: number }; security?: { anonymous: unknown } };
    assert.equal(health.security?.anonymous ?? null, null);
  } finally {
    assert.equal(await stop(child), 0);
  }
});
