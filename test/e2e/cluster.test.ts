/**
 * Two hubs on one external broker (Debian's mosquitto) and one PostgreSQL
 * database: the deployment of docs/deployment.md § Several hubs. The broker
 * requires passwords and applies the ACL that page describes: the hubs' account
 * and a device limited to its own topics. A device talks MQTT to the broker, not
 * to a hub. A browser on either hub sees its telemetry, can call its commands,
 * and history holds every reading once; each message is ingested by exactly one
 * hub (shared subscription).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pg from 'pg';
import { WebSocket } from 'ws';
import { createLink, deviceMeta, type DeviceLink } from '@fieldlink/device';
import type { Hub } from '../../packages/hub/src/hub.js';
import { RawClient, startTestHub, until, wsUrl } from '../../packages/hub/test/helpers.js';
import { PG_URL, dropSchema, randomSchema, requirePostgres } from '../../packages/hub/test/storage/pg-harness.js';
import { startMosquitto, type Mosquitto } from '../../packages/device/test/helpers/brokers.js';

let broker: Mosquitto;
let schema: string;
let hubs: Hub[] = [];
let device: DeviceLink;
const dir = mkdtempSync(join(tmpdir(), 'fl-cluster-'));
const HUB_PASSWORD = 'hub-secret', DEVICE_SECRET = 'd1-secret';

before(async () => {
  await requirePostgres(); // fails with what to do; never skips
  // The ACL of docs/deployment.md: the hubs read and write everything, including their sync markers; a device only its own topics.
  const passwords = join(dir, 'passwd'), acl = join(dir, 'acl');
  writeFileSync(passwords, '');
  execFileSync('mosquitto_passwd', ['-b', passwords, 'fieldlink-hub', HUB_PASSWORD]);
  execFileSync('mosquitto_passwd', ['-b', passwords, 'd1', DEVICE_SECRET]);
  // mosquitto started as root reads them after dropping to its own user.
  chmodSync(dir, 0o755);
  chmodSync(passwords, 0o644);
  writeFileSync(acl, 'user fieldlink-hub\ntopic readwrite #\ntopic readwrite $fieldlink/sync/#\n\npattern readwrite devices/%u/#\n');
  chmodSync(acl, 0o644);
  broker = await startMosquitto(`allow_anonymous false\npassword_file ${passwords}\nacl_file ${acl}\n`);
  const bus = broker.url.replace('mqtt://', `mqtt://fieldlink-hub:${HUB_PASSWORD}@`);
  schema = randomSchema();
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`CREATE SCHEMA "${schema}"`);
  await c.end();
  const store = `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  hubs = [await startTestHub({ bus, store }), await startTestHub({ bus, store })];
  device = createLink({ url: broker.url, deviceId: 'd1', secret: DEVICE_SECRET, meta: deviceMeta('VEML7700 (test)'), onCommand: (method, params) => Promise.resolve({ method, params }) });
  await device.start();
});

after(async () => {
  await device?.stop({ graceful: true });
  await Promise.all(hubs.map((h) => h.stop()));
  await broker?.close();
  if (schema) await dropSchema(schema);
  rmSync(dir, { recursive: true, force: true });
});

test('hubs on one broker: live telemetry on both, commands through either, each reading stored once', async () => {
  const [a, b] = hubs as [Hub, Hub];
  assert.equal(a.mqttPort, -1, 'no MQTT listener of its own');
  const browsers = [await RawClient.open(wsUrl(a, '/ws')), await RawClient.open(wsUrl(b, '/ws'))];
  for (const br of browsers) assert.equal((await br.request('sub', { filter: 'devices/+/telemetry' })).ok, true);

  const t0 = Date.now() - 60_000;
  const n = 60;
  for (let i = 0; i < n; i++) await device.telemetry({ lux: i }, t0 + i * 1000);
  for (const br of browsers) await until(() => br.msgs('devices/d1/telemetry').length === n, 10_000, `${n} messages on each hub`);

  // Commands: the request goes through the broker to the device and back to the hub that asked.
  for (const [i, br] of browsers.entries()) {
    const r = await br.request('call', { device: 'd1', method: 'identify', params: { from: i } });
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.deepEqual(r.result, { method: 'identify', params: { from: i } });
  }

  // Every reading once in the shared store, whichever hub wrote it; together the hubs wrote each once.
  const history = async (hub: Hub) => (await (await fetch(`${hub.url}/api/v1/history?device=d1&metric=lux&from=${t0}&to=${t0 + n * 1000}&limit=1000`)).json()) as { points: { ts: number; value: number }[] };
  const written = async () => {
    let sum = 0;
    for (const h of hubs) sum += ((await (await fetch(`${h.url}/healthz`)).json()) as { store: { ingest: { written: number } } }).store.ingest.written;
    return sum;
  };
  const end = Date.now() + 10_000;
  while ((await written()) < n && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 300)); // a second copy, if the share failed, would land meanwhile
  assert.equal(await written(), n, 'each reading was ingested by exactly one hub');
  for (const hub of hubs) {
    const h = await history(hub);
    assert.deepEqual(h.points.map((p) => p.value), Array.from({ length: n }, (_, i) => i));
  }

  // Both registries know the device from the broker's retained status and meta.
  for (const hub of hubs) {
    const d = (await (await fetch(`${hub.url}/api/v1/devices/d1`)).json()) as { online: boolean; meta?: { model?: string } };
    assert.equal(d.online, true);
    assert.equal(d.meta?.model, 'VEML7700 (test)');
  }
  for (const br of browsers) br.close();
});

test('the broker keeps devices in their own topics and strangers out; the hubs do not see what it refused', async () => {
  const [a] = hubs as [Hub];
  const browser = await RawClient.open(wsUrl(a, '/ws'));
  await browser.request('sub', { filter: 'devices/#' });
  await assert.rejects(mqtt.connectAsync(broker.url, { reconnectPeriod: 0, username: 'd1', password: 'wrong' }), /Not authorized|Bad username or password/);
  const d1 = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0, username: 'd1', password: DEVICE_SECRET, clientId: 'd1-extra' });
  await d1.publishAsync('devices/d2/telemetry', '{"lux":666}', { qos: 1 }); // another device's topic: the broker drops it
  await d1.publishAsync('devices/d1/telemetry', '{"lux":7}', { qos: 1 });
  await browser.waitFor((f) => f.op === 'msg' && f.topic === 'devices/d1/telemetry' && JSON.stringify(f.payload).includes('7'));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(browser.msgs('devices/d2/telemetry').length, 0);
  await d1.endAsync();
  browser.close();
});

test('hubs on an external bus serve no /mqtt door; /healthz says which bus', async () => {
  const [a] = hubs as [Hub];
  const health = (await (await fetch(`${a.url}/healthz`)).json()) as { bus: { kind: string } };
  assert.equal(health.bus.kind, 'external');
  const ws = new WebSocket(wsUrl(a, '/mqtt'), 'mqtt');
  const status = await new Promise<number>((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('open', () => reject(new Error('/mqtt accepted a WebSocket')));
    ws.once('error', reject);
  });
  ws.terminate();
  assert.equal(status, 404);
});
