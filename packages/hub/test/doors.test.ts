/**
 * Cross-door delivery in every direction, over real sockets on port 0:
 * MQTT/TCP, MQTT over /mqtt, the JSON device door and the browser door.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { FieldlinkClient, type MsgPush } from '@fieldlink/protocol';
import type { Hub } from '../src/hub.js';
import { RawClient, mqttConnect, startTestHub, until, wsUrl } from './helpers.js';

let hub: Hub;
before(async () => {
  hub = await startTestHub();
});
after(async () => {
  await hub.stop();
});

test('MQTT/TCP publish reaches a browser on /ws, payload as JSON, with ts and seq', async () => {
  const b = await RawClient.open(wsUrl(hub, '/ws'));
  const r = await b.request('sub', { filter: 'devices/+/telemetry' });
  assert.equal(r.ok, true);
  const dev = await mqttConnect(`mqtt://127.0.0.1:${hub.mqttPort}`);
  dev.publish('devices/t1/telemetry', JSON.stringify({ lux: 12.5 }));
  dev.publish('devices/t1/telemetry', 'not json');
  await until(() => b.msgs().length === 2);
  const [m1, m2] = b.msgs();
  assert.deepEqual(m1!.payload, { lux: 12.5 });
  assert.equal(m1!.enc, undefined);
  assert.equal(m2!.payload, 'not json');
  assert.equal(m2!.enc, 'text');
  assert.ok((m2!.seq as number) > (m1!.seq as number));
  assert.equal(typeof m1!.ts, 'number');
  dev.end();
  b.close();
});

test('browser pub reaches an MQTT/TCP subscriber, retained and binary payloads included', async () => {
  const sub = await mqttConnect(`mqtt://127.0.0.1:${hub.mqttPort}`);
  const got: [string, Buffer, boolean][] = [];
  sub.on('message', (t, p, packet) => got.push([t, p, packet.retain]));
  await sub.subscribeAsync('lab/#');
  const b = await RawClient.open(wsUrl(hub, '/ws'));
  assert.equal((await b.request('pub', { topic: 'lab/lamp', payload: { on: true } })).ok, true);
  assert.equal((await b.request('pub', { topic: 'lab/raw', payload: 'AP8=', encoding: 'base64', qos: 1 })).ok, true);
  await until(() => got.length === 2);
  assert.equal(got[0]![1].toString(), '{"on":true}');
  assert.deepEqual([...got[1]![1]], [0, 255]);
  assert.equal((await b.request('pub', { topic: 'lab/retained', payload: 42, retain: true })).ok, true);
  const late = await mqttConnect(`mqtt://127.0.0.1:${hub.mqttPort}`);
  const lateGot: string[] = [];
  late.on('message', (t, p, packet) => packet.retain && lateGot.push(`${t}=${p}`));
  await late.subscribeAsync('lab/retained');
  await until(() => lateGot.length === 1);
  assert.deepEqual(lateGot, ['lab/retained=42']);
  for (const c of [sub, late]) c.end();
  b.close();
});

test('JSON device door reaches MQTT subscribers and browsers; status is kept by the hub', async () => {
  const sub = await mqttConnect(`mqtt://127.0.0.1:${hub.mqttPort}`);
  const got: string[] = [];
  sub.on('message', (t, p) => got.push(`${t} ${p}`));
  await sub.subscribeAsync('devices/wsdev/#');
  const b = await RawClient.open(wsUrl(hub, '/ws'));
  await b.request('sub', { filter: 'devices/wsdev/telemetry' });
  const d = await RawClient.open(wsUrl(hub, '/ws/device'));
  const auth = await d.request('auth', { device: 'wsdev' });
  assert.equal(auth.ok, true);
  assert.equal((await d.request('telemetry', { data: { lux: 3 }, ts: 1764072000000 })).ok, true);
  await until(() => b.msgs().length === 1);
  assert.deepEqual(b.msgs()[0]!.payload, { lux: 3, ts: 1764072000000 });
  await until(() => got.some((g) => g.startsWith('devices/wsdev/telemetry')));
  assert.ok(got.some((g) => g.startsWith('devices/wsdev/status') && g.includes('"online":true')));
  d.close();
  await until(() => got.some((g) => g.startsWith('devices/wsdev/status') && g.includes('"online":false')));
  await until(() => hub.registry.get('wsdev')?.online === false);
  sub.end();
  b.close();
});

test('MQTT over /mqtt and MQTT over TCP reach each other', async () => {
  const overWs = await mqttConnect(wsUrl(hub, '/mqtt'));
  const overTcp = await mqttConnect(`mqtt://127.0.0.1:${hub.mqttPort}`);
  const atWs: string[] = [];
  const atTcp: string[] = [];
  overWs.on('message', (t, p) => atWs.push(`${t}=${p}`));
  overTcp.on('message', (t, p) => atTcp.push(`${t}=${p}`));
  await overWs.subscribeAsync('x/fromtcp', { qos: 1 });
  await overTcp.subscribeAsync('x/fromws', { qos: 2 });
  await overTcp.publishAsync('x/fromtcp', 'a', { qos: 1 });
  await overWs.publishAsync('x/fromws', 'b', { qos: 2 });
  await until(() => atWs.length === 1 && atTcp.length === 1);
  assert.deepEqual([atWs, atTcp], [['x/fromtcp=a'], ['x/fromws=b']]);
  overWs.end();
  overTcp.end();
});

test('the /mqtt door selects the mqtt subprotocol', async () => {
  const ws = new WebSocket(wsUrl(hub, '/mqtt'), ['mqtt']);
  await new Promise((r) => ws.once('open', r));
  assert.equal(ws.protocol, 'mqtt');
  ws.close();
});

test('unknown upgrade paths get 404', async () => {
  const ws = new WebSocket(wsUrl(hub, '/nope'));
  const err = await new Promise<Error>((r) => ws.once('error', r));
  assert.match(err.message, /404/);
});

test('typed client: subscribe, overlapping filters deliver once, publish, ping', async () => {
  const c = new FieldlinkClient({ url: wsUrl(hub, '/ws'), WebSocket: WebSocket as never });
  await c.connect();
  const a: MsgPush[] = [];
  const bAll: MsgPush[] = [];
  await c.subscribe('t/+', (m) => a.push(m));
  await c.subscribe('t/#', (m) => bAll.push(m));
  await c.publish('t/1', { v: 1 });
  await until(() => a.length === 1 && bAll.length === 1);
  const pong = await c.ping();
  assert.equal(typeof pong.ts, 'number');
  // the hub sent one frame for the two overlapping filters
  assert.equal(a[0], bAll[0]);
  c.close();
});
