/**
 * Two hubs on one external broker (Debian's mosquitto) and one PostgreSQL
 * database: the deployment of docs/deployment.md § Several hubs. A device talks
 * MQTT to the broker, not to a hub. A browser on either hub sees its telemetry,
 * can call its commands, and history holds every reading once; each message is
 * ingested by exactly one hub (shared subscription).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { WebSocket } from 'ws';
import { createLink, deviceMeta, type DeviceLink } from '@fieldlink/device';
import type { Hub } from '../../packages/hub/src/hub.js';
import { RawClient, startTestHub, until, wsUrl } from '../../packages/hub/test/helpers.js';
import { PG_URL, dropSchema, pgAvailable, randomSchema } from '../../packages/hub/test/storage/pg-harness.js';
import { startMosquitto, type Mosquitto } from '../../packages/device/test/helpers/brokers.js';

const skip = !(await pgAvailable()) && 'PostgreSQL not reachable';
let broker: Mosquitto;
let schema: string;
let hubs: Hub[] = [];
let device: DeviceLink;

before(async () => {
  if (skip) return;
  broker = await startMosquitto();
  schema = randomSchema();
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`CREATE SCHEMA "${schema}"`);
  await c.end();
  const store = `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  hubs = [await startTestHub({ bus: broker.url, store }), await startTestHub({ bus: broker.url, store })];
  device = createLink({ url: broker.url, deviceId: 'd1', meta: deviceMeta('VEML7700 (test)'), onCommand: (method, params) => Promise.resolve({ method, params }) });
  await device.start();
});

after(async () => {
  await device?.stop({ graceful: true });
  await Promise.all(hubs.map((h) => h.stop()));
  await broker?.close();
  if (schema) await dropSchema(schema);
});

test('hubs on one broker: live telemetry on both, commands through either, each reading stored once', { skip }, async () => {
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

test('hubs on an external bus serve no /mqtt door; /healthz says which bus', { skip }, async () => {
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
