/**
 * Peers nobody here wrote: Debian's mosquitto_pub/mosquitto_sub on the MQTT/TCP
 * port and Python's paho-mqtt over the /mqtt WebSocket door.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Hub } from '../src/hub.js';
import { RawClient, startTestHub, until, wsUrl } from './helpers.js';
// A missing peer fails its test with the line that says what to install (npm test's pretest installs them as root).
import { PYTHON, requirePeers } from '../../../test/e2e/peers.js';

let hub: Hub;
before(async () => {
  hub = await startTestHub();
});
after(async () => {
  await hub.stop();
});

function run(cmd: string, args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args);
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('exit', (status) => resolve({ status, stderr }));
  });
}

function collect(child: ChildProcess): { out: string[] } {
  const acc = { out: [] as string[] };
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop()!;
    acc.out.push(...lines);
  });
  return acc;
}

test('mosquitto_pub → browser, and browser → mosquitto_sub', async () => {
  requirePeers(['mosquitto-clients']);
  const b = await RawClient.open(wsUrl(hub, '/ws'));
  await b.request('sub', { filter: 'devices/+/telemetry' });
  // spawn, not spawnSync: the hub lives in this process and must keep running
  const r = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(hub.mqttPort), '-q', '1', '-t', 'devices/mp-1/telemetry', '-m', '{"lux":77.5}']);
  assert.equal(r.status, 0, r.stderr);
  const m = await b.waitFor((f) => f.op === 'msg' && f.topic === 'devices/mp-1/telemetry');
  assert.deepEqual(m.payload, { lux: 77.5 });

  const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(hub.mqttPort), '-t', 'lab/#', '-v', '-C', '1', '-q', '1']);
  const got = collect(sub);
  // mosquitto_sub has no "subscribed" signal: publish until it has seen one
  await until(() => {
    if (got.out.length === 0) void b.request('pub', { topic: 'lab/from-browser', payload: { hello: 'mosquitto' }, qos: 1 });
    return got.out.length > 0;
  }, 10_000, 'mosquitto_sub output');
  assert.equal(got.out[0], 'lab/from-browser {"hello":"mosquitto"}');
  await new Promise((r2) => (sub.exitCode !== null ? r2(null) : sub.once('exit', r2)));
  b.close();
});

test('paho-mqtt over the /mqtt WebSocket door, both directions', async () => {
  requirePeers(['python3-paho-mqtt']);
  const b = await RawClient.open(wsUrl(hub, '/ws'));
  await b.request('sub', { filter: 'peer/out' });
  const script = fileURLToPath(new URL('./fixtures/paho_ws.py', import.meta.url));
  const py = spawn(PYTHON, [script, '127.0.0.1', String(hub.httpPort)]);
  const got = collect(py);
  let err = '';
  py.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await until(() => got.out.includes('subscribed') || py.exitCode !== null, 10_000, 'paho subscribed');
  assert.ok(got.out.includes('subscribed'), err);
  const fromPaho = await b.waitFor((f) => f.op === 'msg' && f.topic === 'peer/out');
  assert.deepEqual(fromPaho.payload, { from: 'paho' });
  await b.request('pub', { topic: 'peer/in', payload: { to: 'paho' }, qos: 1 });
  await until(() => py.exitCode !== null, 10_000, 'paho exit');
  assert.equal(py.exitCode, 0, err);
  assert.ok(got.out.includes('peer/in {"to":"paho"}'), got.out.join('\n'));
  b.close();
});
