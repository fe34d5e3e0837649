/**
 * The bounds of issue #11 items 9 and 11 on MQTTS (MQTT.js with the dev CA): a
 * refusal flood is rate limited and logged once, hostile payload shapes are
 * dropped and counted, while a device on MQTTS and a viewer on WSS keep being
 * served and the device list keeps answering over WSS and HTTPS.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import type { MqttClient } from 'mqtt';
import { runCert } from '../../src/cli/cert.js';
import { mqttConnect, until } from '../helpers.js';
import { securedHub, type Secured } from './fixture.js';
import { countingLog } from './bystanders.js';

const dir = mkdtempSync(join(tmpdir(), 'fl-bounds-tls-'));
let s: Secured;
let ca: Buffer;
let device: MqttClient;
let viewer: WebSocket;
const frames: Record<string, unknown>[] = [];
const counted = countingLog();
const mqtts = () => `mqtts://localhost:${s.hub.mqttsPort}`;

before(async () => {
  const log = console.log;
  console.log = () => undefined;
  await runCert(['dev', '--out', dir, '--hosts', 'localhost,127.0.0.1']);
  console.log = log;
  ca = readFileSync(join(dir, 'ca.pem'));
  s = await securedHub({ tlsCert: join(dir, 'server.pem'), tlsKey: join(dir, 'server-key.pem'), mqttsPort: -1, publishRate: 20, logSummaryMs: 600_000, logLevel: 'warn' }, counted.log);
  device = await mqttConnect(mqtts(), { username: 'd1', password: s.secret.d1, ca });
  viewer = new WebSocket(`wss://localhost:${s.hub.httpPort}/ws`, { ca });
  viewer.on('message', (d) => frames.push(JSON.parse(d.toString()) as Record<string, unknown>));
  await new Promise((r, j) => (viewer.once('open', r), viewer.once('error', j)));
  viewer.send(JSON.stringify({ op: 'auth', id: 'a', token: s.tokens.viewer }));
  viewer.send(JSON.stringify({ op: 'sub', id: 's', filter: 'devices/d1/telemetry' }));
  await until(() => frames.some((f) => f.id === 's'));
});
after(async () => {
  viewer.close();
  await device.endAsync();
  await s.stop();
});

let n = 0;
async function bystandersServed(): Promise<void> {
  const v = ++n;
  await device.publishAsync('devices/d1/telemetry', JSON.stringify({ lux: v }), { qos: 1 });
  await until(() => frames.some((f) => f.op === 'msg' && (f.payload as { lux?: number }).lux === v), 10_000, 'viewer got the reading');
  viewer.send(JSON.stringify({ op: 'devices', id: `d${v}` }));
  await until(() => frames.some((f) => f.id === `d${v}`), 10_000, 'devices op answered');
  assert.equal(frames.find((f) => f.id === `d${v}`)!.ok, true);
  const status = await new Promise<number>((resolve, reject) => {
    https.get(`https://localhost:${s.hub.httpPort}/api/v1/devices`, { ca, headers: { authorization: `Bearer ${s.tokens.viewer}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
  assert.equal(status, 200);
}

test('MQTTS: a flood of forbidden publishes is rate limited and logged as one line', async () => {
  const c = await mqttConnect(mqtts(), { username: 'd2', password: s.secret.d2, ca });
  const lines0 = counted.lines.filter((l) => l.msg === 'denied').length;
  const limited0 = s.hub.security.rateLimited;
  for (let i = 0; i < 2000; i++) c.publish('devices/d1/telemetry', '{"lux":-1}', { qos: 0 });
  await c.publishAsync('devices/d1/telemetry', '{"lux":-1}', { qos: 1 });
  assert.ok(s.hub.security.rateLimited - limited0 >= 1500);
  assert.ok(counted.lines.filter((l) => l.msg === 'denied').length - lines0 <= 1);
  await c.endAsync();
  await bystandersServed();
});

test('MQTTS: 100,000-deep and 55,000-key payloads are dropped and counted; the list still answers', async () => {
  const c = await mqttConnect(mqtts(), { username: 'd2', password: s.secret.d2, ca });
  await c.publishAsync('devices/d2/meta', `{"m":${'['.repeat(100_000)}${']'.repeat(100_000)}}`, { qos: 1, retain: true });
  await c.publishAsync('devices/d2/telemetry', `{"lux":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`, { qos: 1 });
  await c.publishAsync('devices/d2/telemetry', JSON.stringify(Object.fromEntries(Array.from({ length: 55_000 }, (_, i) => [`k${i}`, i]))), { qos: 1 });
  const r = s.hub.security.shapes.refused;
  assert.equal((r['mqtt:too_deep'] ?? 0) + (r['mqtt:meta_too_large'] ?? 0), 2);
  assert.equal(r['mqtt:too_many_keys'], 1);
  assert.equal(s.hub.registry.get('d2')?.meta ?? null, null);
  await c.endAsync();
  await bystandersServed();
});
