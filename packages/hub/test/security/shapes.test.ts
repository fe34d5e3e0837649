/**
 * Issue #11 item 11, hostile payload shapes: payloads nested 100,000 deep,
 * with 55,000 keys, oversized meta, endless new metric names and device ids, as
 * telemetry, meta and status, on every door (MQTT/TCP, /mqtt, /ws `pub`,
 * /ws/device). Each is refused or cut with a counted reason, and the device
 * list (the `devices` op, HTTP /api/v1/devices) keeps answering for everyone.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import { RawClient, mqttConnect, until, wsUrl } from '../helpers.js';
import { securedHub, type Secured } from './fixture.js';
import { bystanders, metric, type Bystanders } from './bystanders.js';

const MAX_METRICS = 40;
const MAX_DEVICES = 30;
let s: Secured;
let by: Bystanders;

const nest = (n: number, inner = '1') => '{"a":'.repeat(n) + inner + '}'.repeat(n);
const arrays = (n: number) => '['.repeat(n) + ']'.repeat(n);
const wide = (n: number, prefix = 'k') => JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, i])));

before(async () => {
  s = await securedHub({ publishRate: 1000, maxMetricsPerDevice: MAX_METRICS, maxDevices: MAX_DEVICES, mqttMaxPacketBytes: 2 * 1024 * 1024 });
  by = await bystanders(s);
});
after(async () => {
  await by.close();
  await s.stop();
});

/** The attacker's record, if any, holds nothing deep, nothing past the caps. */
function recordBounded(id: string): void {
  const rec = s.hub.registry.get(id);
  if (!rec) return;
  assert.ok(Object.keys(rec.last).length <= MAX_METRICS, `${Object.keys(rec.last).length} readings kept`);
  assert.ok(JSON.stringify(rec).length < 64 * 1024, 'what the registry keeps of one device is small');
}

for (const door of ['mqtt', 'mqtt-ws'] as const) {
  test(`${door}: 100,000-deep telemetry, meta and status, 55,000 keys, a 100 KB meta are dropped and counted; the list still answers`, async () => {
    const url = door === 'mqtt' ? `mqtt://127.0.0.1:${s.hub.mqttPort}` : wsUrl(s.hub, '/mqtt');
    const c: MqttClient = await mqttConnect(url, { username: 'd2', password: s.secret.d2 });
    const before = { deep: await metric(s, 'fieldlink_payload_refused_total', { door: 'mqtt', reason: 'too_deep' }), keys: await metric(s, 'fieldlink_payload_refused_total', { door: 'mqtt', reason: 'too_many_keys' }) };
    await c.publishAsync('devices/d2/telemetry', `{"lux":${nest(100_000)}}`, { qos: 1 });
    await c.publishAsync('devices/d2/telemetry', `{"lux":1,"v":${arrays(100_000)}}`, { qos: 1 });
    await c.publishAsync('devices/d2/meta', `{"model":${nest(40)}}`, { qos: 1, retain: true });
    await c.publishAsync('devices/d2/status', `{"online":true,"x":${arrays(5000)}}`, { qos: 1, retain: true });
    await c.publishAsync('devices/d2/telemetry', wide(55_000), { qos: 1 });
    await c.publishAsync('devices/d2/meta', JSON.stringify({ model: 'x'.repeat(100_000) }), { qos: 1, retain: true });
    assert.equal(await metric(s, 'fieldlink_payload_refused_total', { door: 'mqtt', reason: 'too_deep' }) - before.deep, 4);
    assert.equal(await metric(s, 'fieldlink_payload_refused_total', { door: 'mqtt', reason: 'too_many_keys' }) - before.keys, 1);
    assert.ok((await metric(s, 'fieldlink_payload_refused_total', { door: 'mqtt', reason: 'meta_too_large' })) >= 1);
    // none of it reached the bus: no retained copy for new subscribers either
    const late = await RawClient.open(wsUrl(s.hub, '/ws'));
    assert.equal((await late.request('auth', { token: s.tokens.viewer })).ok, true);
    assert.equal(((await late.request('sub', { filter: 'devices/d2/meta' })).result as { retained: number }).retained, 0);
    late.close();
    // the same connection still publishes what is fine
    await c.publishAsync('devices/d2/telemetry', JSON.stringify({ lux: 42, note: '[[[[{{{{ brackets in a string are text' }), { qos: 1 });
    await until(() => s.hub.registry.get('d2')?.last.lux?.value === 42, 5000, 'good telemetry after the hostile ones');
    recordBounded('d2');
    await c.endAsync();
    await by.check();
  });
}

test('/ws pub: deep payloads are refused before anything stringifies them, deep or wide text too; PAYLOAD_LIMIT', async () => {
  const op = await RawClient.open(wsUrl(s.hub, '/ws'));
  assert.equal((await op.request('auth', { token: s.tokens.operator })).ok, true);
  // a 60 KB frame nested 30,000 deep: refused before anything recurses on it, answered by id
  op.sendRaw(`{"op":"pub","id":"deep","topic":"devices/op-x/meta","retain":true,"payload":${arrays(30_000)}}`);
  assert.equal((await op.waitFor((f) => f.id === 'deep')).error?.name, 'PAYLOAD_LIMIT');
  // one level past the bound (payload depth 33)
  assert.equal((await op.request('pub', { topic: 'devices/op-x/telemetry', payload: { x: JSON.parse(arrays(32)) as unknown } })).error?.name, 'PAYLOAD_LIMIT');
  assert.equal((await op.request('pub', { topic: 'devices/op-x/telemetry', payload: { x: JSON.parse(arrays(31)) as unknown } })).ok, true, 'depth 32 is fine');
  // JSON hidden in a text payload is scanned as bytes
  assert.equal((await op.request('pub', { topic: 'devices/op-x/status', encoding: 'text', payload: `{"online":${nest(1000)}}` })).error?.name, 'PAYLOAD_LIMIT');
  assert.equal((await op.request('pub', { topic: 'devices/op-x/telemetry', payload: JSON.parse(wide(1001)) as unknown })).error?.name, 'PAYLOAD_LIMIT');
  assert.equal((await op.request('pub', { topic: 'devices/op-x/meta', payload: { model: 'm'.repeat(20_000) } })).error?.name, 'PAYLOAD_LIMIT');
  // other topics are not device readings: their payloads are not bounded by shape
  assert.equal((await op.request('pub', { topic: 'events/x', payload: JSON.parse(arrays(20)) as unknown })).ok, true);
  assert.equal((await op.request('pub', { topic: 'devices/op-x/telemetry', payload: { lux: 3 } })).ok, true);
  assert.ok((await metric(s, 'fieldlink_payload_refused_total', { door: 'ws' })) >= 5);
  op.close();
  await by.check();
});

test('/ws/device: deep frames, deep or wide telemetry, meta and pub are refused with PAYLOAD_LIMIT; the device stays connected', async () => {
  const d = await RawClient.open(wsUrl(s.hub, '/ws/device'));
  assert.equal((await d.request('auth', { device: 'd2', secret: s.secret.d2 })).ok, true);
  d.sendRaw(`{"op":"telemetry","data":{"lux":${arrays(30_000)}}}`); // no id: answered with an error frame
  assert.equal((await d.waitFor((f) => f.op === 'error')).error?.name, 'PAYLOAD_LIMIT');
  assert.equal((await d.request('telemetry', { data: { lux: JSON.parse(arrays(40)) as unknown } })).error?.name, 'PAYLOAD_LIMIT');
  assert.equal((await d.request('telemetry', { data: JSON.parse(wide(1001)) as unknown })).error?.name, 'PAYLOAD_LIMIT');
  assert.equal((await d.request('meta', { meta: { model: JSON.parse(nest(40)) as unknown } })).error?.name, 'PAYLOAD_LIMIT');
  assert.equal((await d.request('meta', { meta: { model: 'm'.repeat(20_000) } })).error?.name, 'PAYLOAD_LIMIT');
  assert.equal((await d.request('pub', { topic: 'status', payload: { online: JSON.parse(arrays(40)) as unknown } })).error?.name, 'PAYLOAD_LIMIT');
  assert.equal((await d.request('telemetry', { data: { lux: 7 } })).ok, true);
  assert.equal(d.closed, undefined);
  recordBounded('d2');
  d.close();
  await by.check();
});

test('every door: endless new metric names stop at --max-metrics-per-device, in the registry and in the store', async () => {
  const doors = {
    mqtt: async (dev: string, body: string) => {
      const c = await mqttConnect(`mqtt://127.0.0.1:${s.hub.mqttPort}`, { username: 'otto', password: s.passwords.otto });
      for (let i = 0; i < 5; i++) await c.publishAsync(`devices/${dev}/telemetry`, body.replaceAll('"k', `"m${i}k`), { qos: 1 });
      await c.endAsync();
    },
    'mqtt-ws': async (dev: string, body: string) => {
      const c = await mqttConnect(wsUrl(s.hub, '/mqtt'), { username: 'otto', password: s.passwords.otto });
      for (let i = 0; i < 5; i++) await c.publishAsync(`devices/${dev}/telemetry`, body.replaceAll('"k', `"m${i}k`), { qos: 1 });
      await c.endAsync();
    },
    ws: async (dev: string, body: string) => {
      const op = await RawClient.open(wsUrl(s.hub, '/ws'));
      assert.equal((await op.request('auth', { token: s.tokens.operator })).ok, true);
      for (let i = 0; i < 5; i++) assert.equal((await op.request('pub', { topic: `devices/${dev}/telemetry`, payload: JSON.parse(body.replaceAll('"k', `"m${i}k`)) as unknown })).ok, true);
      op.close();
    },
  };
  for (const [door, send] of Object.entries(doors)) {
    const dev = `names-${door}`;
    await send(dev, wide(100)); // 500 distinct names, each message within --max-payload-keys
    await until(() => s.hub.registry.get(dev) !== undefined, 5000, `${dev} known`);
  }
  // /ws/device: d2 itself
  const d = await RawClient.open(wsUrl(s.hub, '/ws/device'));
  assert.equal((await d.request('auth', { device: 'd2', secret: s.secret.d2 })).ok, true);
  for (let i = 0; i < 5; i++) assert.equal((await d.request('telemetry', { data: JSON.parse(wide(100, `w${i}k`)) as unknown })).ok, true);
  d.close();
  await until(() => Object.keys(s.hub.registry.get('d2')?.last ?? {}).length >= MAX_METRICS, 5000, 'd2 at the cap');
  for (const dev of ['names-mqtt', 'names-mqtt-ws', 'names-ws', 'd2']) {
    recordBounded(dev);
    assert.equal(Object.keys(s.hub.registry.get(dev)!.last).length, MAX_METRICS, dev);
  }
  // ingest: the store's series are bounded the same way (points of further names counted, not written)
  const deadline = Date.now() + 10_000;
  let overCap = await metric(s, 'fieldlink_ingest', { counter: 'overCap' });
  while (overCap < 4 * (500 - MAX_METRICS) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    overCap = await metric(s, 'fieldlink_ingest', { counter: 'overCap' });
  }
  assert.ok(overCap >= 4 * (500 - MAX_METRICS), `overCap ${overCap}`);
  for (const dev of ['names-mqtt', 'names-mqtt-ws', 'names-ws', 'd2']) assert.ok((await s.hub.store!.metrics(dev)).length <= MAX_METRICS, dev);
  assert.ok((await metric(s, 'fieldlink_registry_refused_total', { reason: 'metrics_over_cap' })) >= 4 * (500 - MAX_METRICS));
  await by.check();
});

test('/ws pub: endless new device ids stop at --max-devices; known devices stay listed', async () => {
  const op = await RawClient.open(wsUrl(s.hub, '/ws'));
  assert.equal((await op.request('auth', { token: s.tokens.operator })).ok, true);
  for (let i = 0; i < 80; i++) assert.equal((await op.request('pub', { topic: `devices/spam-${i}/status`, payload: { online: true }, retain: false })).ok, true);
  await until(() => (s.hub.registry.refused().devices_over_cap ?? 0) > 0, 5000, 'device cap reached');
  assert.ok(s.hub.registry.list().length <= MAX_DEVICES);
  assert.ok(s.hub.registry.get('d1'), 'the legitimate device is still known');
  op.close();
  await by.check();
});

test('a hostile payload that reaches the bus without a door (an external broker) is not kept either', async () => {
  await s.hub.bus.publish('devices/d2/meta', `{"model":${nest(100)}}`, { retain: false });
  await s.hub.bus.publish('devices/d2/telemetry', `{"lux":${arrays(100_000)}}`);
  await until(() => (s.hub.registry.refused().too_deep ?? 0) >= 2, 5000, 'registry refusals');
  recordBounded('d2');
  await by.check();
});
