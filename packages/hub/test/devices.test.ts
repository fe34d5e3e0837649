/**
 * The device model, the same whichever door a device uses: retained status from
 * birth and last will, meta, registry, and commands as request/response.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import type { Hub } from '../src/hub.js';
import { RawClient, mqttConnect, startTestHub, until, wsUrl } from './helpers.js';

let hub: Hub;
before(async () => {
  hub = await startTestHub({ callTimeoutMs: 300 });
});
after(async () => {
  await hub.stop();
});

/** An MQTT device that answers commands like a real one: echo, fail, or stay silent. */
async function mqttDevice(id: string): Promise<MqttClient> {
  const c = await mqttConnect(`mqtt://127.0.0.1:${hub.mqttPort}`, {
    clientId: id,
    will: { topic: `devices/${id}/status`, payload: Buffer.from('{"online":false,"ts":0,"reason":"will"}'), retain: true, qos: 1 },
  });
  await c.publishAsync(`devices/${id}/status`, JSON.stringify({ online: true, ts: Date.now() }), { retain: true, qos: 1 });
  await c.publishAsync(`devices/${id}/meta`, JSON.stringify({ model: 'VEML7700', metrics: { lux: { unit: 'lx' } } }), { retain: true, qos: 1 });
  await c.subscribeAsync(`devices/${id}/cmd/+`, { qos: 1 });
  c.on('message', (topic, payload) => {
    const method = topic.split('/')[3]!;
    const req = JSON.parse(payload.toString()) as { id: string; params: Record<string, unknown> };
    const res = (body: object) => c.publish(`${topic}/res`, JSON.stringify({ id: req.id, ...body }), { qos: 1 });
    if (method === 'echo') setTimeout(() => res({ ok: true, result: { device: id, params: req.params } }), Math.random() * 50);
    else if (method === 'fail') res({ ok: false, error: { message: 'sensor busy' } });
    // 'silent' never answers
  });
  return c;
}

test('registry: birth status, meta and telemetry make a device known and online', async () => {
  const d = await mqttDevice('reg-1');
  await d.publishAsync('devices/reg-1/telemetry', JSON.stringify({ lux: 101, mode: 'auto' }));
  await until(() => hub.registry.get('reg-1')?.last.lux?.value === 101);
  const rec = hub.registry.get('reg-1')!;
  assert.equal(rec.online, true);
  assert.deepEqual(rec.meta, { model: 'VEML7700', metrics: { lux: { unit: 'lx' } } });
  assert.equal(rec.last.mode?.value, 'auto');
  const b = await RawClient.open(wsUrl(hub, '/ws'));
  const list = await b.request('devices');
  const ids = (list.result as { devices: { id: string }[] }).devices.map((x) => x.id);
  assert.ok(ids.includes('reg-1'));
  const one = await b.request('devices', { device: 'reg-1' });
  assert.equal((one.result as { device: { online: boolean } }).device.online, true);
  assert.equal((await b.request('devices', { device: 'nobody' })).error?.name, 'UNKNOWN_DEVICE');
  d.end();
  b.close();
});

test('last will: a device that vanishes turns offline, and browsers see the retained status', async () => {
  const d = await mqttDevice('will-1');
  await until(() => hub.registry.get('will-1')?.online === true);
  d.stream.destroy(); // no DISCONNECT: the broker publishes the will
  await until(() => hub.registry.get('will-1')?.online === false);
  const b = await RawClient.open(wsUrl(hub, '/ws'));
  await b.request('sub', { filter: 'devices/will-1/status' });
  await until(() => b.msgs().length === 1);
  assert.equal(b.msgs()[0]!.retained, true);
  assert.deepEqual(b.msgs()[0]!.payload, { online: false, ts: 0, reason: 'will' });
  b.close();
});

test('call: round trip to an MQTT device, device error, timeout, offline and unknown devices', async () => {
  const d = await mqttDevice('cmd-1');
  const b = await RawClient.open(wsUrl(hub, '/ws'));
  const r = await b.request('call', { device: 'cmd-1', method: 'echo', params: { ms: 500 } });
  assert.deepEqual(r.result, { device: 'cmd-1', params: { ms: 500 } });
  const f = await b.request('call', { device: 'cmd-1', method: 'fail' });
  assert.equal(f.error?.name, 'DEVICE_ERROR');
  assert.match(f.error!.message, /sensor busy/);
  const t = await b.request('call', { device: 'cmd-1', method: 'silent', timeout: 200 });
  assert.equal(t.error?.name, 'CALL_TIMEOUT');
  assert.equal(t.error?.code, 2001);
  const dflt = await b.request('call', { device: 'cmd-1', method: 'silent' });
  assert.equal(dflt.error?.name, 'CALL_TIMEOUT', 'default timeout from --call-timeout-ms');
  assert.equal((await b.request('call', { device: 'ghost', method: 'echo' })).error?.name, 'UNKNOWN_DEVICE');
  await d.endAsync();
  b.close();
});

test('100 concurrent calls across two devices come back without cross-talk', async () => {
  const d1 = await mqttDevice('cc-1');
  const d2 = await mqttDevice('cc-2');
  const b = await RawClient.open(wsUrl(hub, '/ws'));
  const calls = Array.from({ length: 100 }, (_, i) => {
    const device = i % 2 ? 'cc-1' : 'cc-2';
    return b.request('call', { device, method: 'echo', params: { n: i }, timeout: 5000 }).then((r) => ({ i, device, r }));
  });
  for (const { i, device, r } of await Promise.all(calls)) {
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.deepEqual(r.result, { device, params: { n: i } });
  }
  d1.end();
  d2.end();
  b.close();
});

test('call reaches a device on the JSON device door, and its answer comes back', async () => {
  const d = await RawClient.open(wsUrl(hub, '/ws/device'));
  await d.request('auth', { device: 'jsondev' });
  d.ws.on('message', (data) => {
    const f = JSON.parse(data.toString()) as { op?: string; id: string; method: string; params: unknown };
    if (f.op === 'cmd') d.ws.send(JSON.stringify({ op: 'res', id: f.id, ok: true, result: { method: f.method, params: f.params } }));
  });
  await until(() => hub.registry.get('jsondev')?.online === true);
  const b = await RawClient.open(wsUrl(hub, '/ws'));
  const r = await b.request('call', { device: 'jsondev', method: 'identify', params: { blink: 3 } });
  assert.deepEqual(r.result, { method: 'identify', params: { blink: 3 } });
  d.close();
  await until(() => hub.registry.get('jsondev')?.online === false);
  assert.equal((await b.request('call', { device: 'jsondev', method: 'identify' })).error?.name, 'DEVICE_OFFLINE');
  b.close();
});
