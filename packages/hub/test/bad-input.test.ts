/**
 * Every bad input on every door gets a code from the one table, and the hub
 * keeps serving everyone else: each case checks that a bystander browser still
 * receives a message published after the bad input.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { Hub } from '../src/hub.js';
import { RawClient, mqttConnect, startTestHub, until, wsUrl } from './helpers.js';
import { closeFrame, rawUpgrade, serverClose } from './raw-ws.js';

let hub: Hub;
let bystander: RawClient;
let n = 0;

before(async () => {
  hub = await startTestHub({ maxFrameBytes: 4096, maxSubscriptions: 3 });
  bystander = await RawClient.open(wsUrl(hub, '/ws'));
  await bystander.request('sub', { filter: 'canary/#' });
});
after(async () => {
  bystander.close();
  await hub.stop();
});

async function bystanderStillServed(): Promise<void> {
  const topic = `canary/${++n}`;
  const pub = await mqttConnect(`mqtt://127.0.0.1:${hub.mqttPort}`);
  await pub.publishAsync(topic, 'alive');
  await bystander.waitFor((f) => f.op === 'msg' && f.topic === topic);
  await pub.endAsync();
}

const browserCases: [string, string, string][] = [
  ['malformed JSON', '{"op":"ping",', 'BAD_JSON'],
  ['not an object', '[1,2,3]', 'BAD_FRAME'],
  ['unknown op', '{"op":"explode","id":"x1"}', 'UNKNOWN_OP'],
  ['missing id', '{"op":"ping"}', 'MISSING_FIELD'],
  ['missing field', '{"op":"sub","id":"x2"}', 'MISSING_FIELD'],
  ['wrong type', '{"op":"sub","id":"x3","filter":42}', 'WRONG_TYPE'],
  ['wildcard in a publish topic', '{"op":"pub","id":"x4","topic":"a/+/b","payload":1}', 'INVALID_TOPIC'],
  ['empty filter', '{"op":"sub","id":"x5","filter":""}', 'INVALID_FILTER'],
  ['over-long topic', `{"op":"pub","id":"x6","topic":"${'t'.repeat(1100)}","payload":1}`, 'INVALID_TOPIC'],
  ['publish to a $ topic', '{"op":"pub","id":"x7","topic":"$SYS/x","payload":1}', 'INVALID_TOPIC'],
  ['unsub of a filter never subscribed', '{"op":"unsub","id":"x8","filter":"nope"}', 'NOT_SUBSCRIBED'],
  ['history without a store', '{"op":"history","id":"x9","device":"d","metric":"lux"}', 'STORE_UNAVAILABLE'],
  ['call with a bad device id', '{"op":"call","id":"x10","device":"a b","method":"m"}', 'INVALID_ID'],
];

for (const [name, frame, codeName] of browserCases) {
  test(`/ws: ${name} → ${codeName}, connection stays usable`, async () => {
    const c = await RawClient.open(wsUrl(hub, '/ws'));
    c.sendRaw(frame);
    const err = await c.waitFor((f) => f.ok === false || f.op === 'error');
    assert.equal(err.error?.name, codeName);
    assert.equal(typeof err.error?.code, 'number');
    assert.equal((await c.request('ping')).ok, true);
    await bystanderStillServed();
    c.close();
  });
}

test('/ws: oversized frame → FRAME_TOO_LARGE, connection stays usable', async () => {
  const c = await RawClient.open(wsUrl(hub, '/ws'));
  c.sendRaw(JSON.stringify({ op: 'pub', id: 'big', topic: 'a', payload: 'x'.repeat(5000) }));
  const err = await c.waitFor((f) => f.op === 'error');
  assert.equal(err.error?.name, 'FRAME_TOO_LARGE');
  assert.equal((await c.request('ping')).ok, true);
  await bystanderStillServed();
  c.close();
});

test('/ws: binary frame → NOT_UTF8, connection stays usable', async () => {
  const c = await RawClient.open(wsUrl(hub, '/ws'));
  c.sendRaw(Buffer.from([1, 2, 3]), true);
  assert.equal((await c.waitFor((f) => f.op === 'error')).error?.name, 'NOT_UTF8');
  assert.equal((await c.request('ping')).ok, true);
  c.close();
});

test('/ws: text that is not UTF-8 → NOT_UTF8, then close 1007 as RFC 6455 requires', async () => {
  const c = await RawClient.open(wsUrl(hub, '/ws'));
  c.sendRaw(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), false);
  assert.equal((await c.waitFor((f) => f.op === 'error')).error?.name, 'NOT_UTF8');
  await until(() => c.closed !== undefined);
  assert.equal(c.closed!.code, 1007);
  await bystanderStillServed();
});

// RFC 6455 §7.4.1 / §8.1: a close reason that is not UTF-8 fails the connection with 1007, on every WebSocket door.
for (const path of ['/ws', '/ws/device', '/mqtt']) {
  const headers: Record<string, string> = path === '/mqtt' ? { 'sec-websocket-protocol': 'mqtt' } : {};
  const invalid: [string, Buffer][] = [
    ['a lone 0xff', Buffer.from([0xff])],
    ['a truncated sequence', Buffer.from([0x62, 0x79, 0x65, 0xe2, 0x82])],
    ['an encoded surrogate', Buffer.from([0xed, 0xa0, 0x80])],
    ['an overlong NUL', Buffer.from([0xc0, 0x80])],
  ];
  for (const [what, reason] of invalid) {
    test(`${path}: a close frame whose reason is ${what} → 1007, not an echo`, async () => {
      const u = await rawUpgrade(hub.httpPort, path, headers);
      assert.equal(u.status, 101);
      u.socket.write(closeFrame(1000, reason));
      await until(() => serverClose(u) !== undefined, 5000, 'close frame from the hub');
      assert.equal(serverClose(u)!.code, 1007);
      u.socket.destroy();
      await bystanderStillServed();
    });
  }
  test(`${path}: a close frame with a UTF-8 reason is answered in kind (1000)`, async () => {
    const u = await rawUpgrade(hub.httpPort, path, headers);
    u.socket.write(closeFrame(1000, Buffer.from('bye — ünïcode', 'utf8')));
    await until(() => serverClose(u) !== undefined, 5000, 'close frame from the hub');
    assert.equal(serverClose(u)!.code, 1000);
    u.socket.destroy();
  });
}

test('/ws: a request id reused while in flight → DUPLICATE_ID', async () => {
  const c = await RawClient.open(wsUrl(hub, '/ws'));
  c.sendRaw(JSON.stringify({ op: 'sub', id: 'dup', filter: 'd/1' }));
  c.sendRaw(JSON.stringify({ op: 'sub', id: 'dup', filter: 'd/2' }));
  const replies = await until(() => c.frames.filter((f) => f.id === 'dup').length === 2).then(() => c.frames.filter((f) => f.id === 'dup'));
  assert.ok(replies.some((r) => r.error?.name === 'DUPLICATE_ID'), JSON.stringify(replies));
  c.close();
});

test('/ws: too many subscriptions → TOO_MANY_SUBSCRIPTIONS', async () => {
  const c = await RawClient.open(wsUrl(hub, '/ws'));
  for (const f of ['s/1', 's/2', 's/3']) assert.equal((await c.request('sub', { filter: f })).ok, true);
  assert.equal((await c.request('sub', { filter: 's/1' })).ok, true, 'the same filter again is idempotent');
  assert.equal((await c.request('sub', { filter: 's/4' })).error?.name, 'TOO_MANY_SUBSCRIPTIONS');
  c.close();
});

const deviceCases: [string, string, string][] = [
  ['malformed JSON', '{"op":', 'BAD_JSON'],
  ['telemetry before auth', '{"op":"telemetry","id":"1","data":{"lux":1}}', 'UNAUTHENTICATED'],
  ['bad device id', '{"op":"auth","id":"1","device":"a/b"}', 'INVALID_ID'],
  ['unknown op', '{"op":"reboot","id":"1"}', 'UNKNOWN_OP'],
];
for (const [name, frame, codeName] of deviceCases) {
  test(`/ws/device: ${name} → ${codeName}`, async () => {
    const d = await RawClient.open(wsUrl(hub, '/ws/device'));
    d.sendRaw(frame);
    const err = await d.waitFor((f) => f.ok === false || f.op === 'error');
    assert.equal(err.error?.name, codeName);
    assert.equal((await d.request('ping')).ok, true);
    await bystanderStillServed();
    d.close();
  });
}

test('/ws/device: bad telemetry after auth → WRONG_TYPE, the device keeps publishing', async () => {
  const d = await RawClient.open(wsUrl(hub, '/ws/device'));
  await d.request('auth', { device: 'bad-tele' });
  assert.equal((await d.request('telemetry', { data: 'lux=3' })).error?.name, 'WRONG_TYPE');
  assert.equal((await d.request('telemetry', { data: { lux: 3 } })).ok, true);
  d.close();
});

test('MQTT/TCP: a garbage packet closes that connection only', async () => {
  const sock = net.connect(hub.mqttPort, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  sock.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02]));
  await new Promise((r) => sock.once('close', r));
  await bystanderStillServed();
});
