import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, engine, tick } from './helpers.js';

test('[MQTT-3.1.2-5/6] 3.1.1 CleanSession 0 resumes subscriptions and queued QoS 1 (session present); CleanSession 1 discards', async () => {
  const e = engine();
  const a = await connect(e, { clientId: 'p', clean: false });
  assert.equal(a.connack!.sessionPresent, false);
  await a.subscribe('t', 1);
  a.end();
  await a.whenClosed;
  await tick();
  await e.publish({ topic: 't', payload: 'while away', qos: 1 });
  await e.publish({ topic: 't', payload: 'qos0 dropped offline', qos: 0 });
  const b = await connect(e, { clientId: 'p', clean: false });
  assert.equal(b.connack!.sessionPresent, true);
  assert.equal((await b.next('publish')).payload.toString(), 'while away');
  assert.ok(await b.none('publish'));
  b.end();
  await b.whenClosed;
  const c = await connect(e, { clientId: 'p', clean: true });
  assert.equal(c.connack!.sessionPresent, false);
  await e.publish({ topic: 't', payload: 'no sub', qos: 1 });
  assert.ok(await c.none('publish'));
});

test('[MQTT-4.4.0-1] unacknowledged QoS 1 and QoS 2 are resent on reconnect with DUP and their packet ids; PUBREL resent', async () => {
  const e = engine();
  const a = await connect(e, { version: 5, clientId: 'r', clean: false, properties: { sessionExpiryInterval: 60 } });
  await a.subscribe([{ topic: 'q1', qos: 1 }, { topic: 'q2', qos: 2 }]);
  await e.publish({ topic: 'q1', payload: 'one', qos: 1 });
  await e.publish({ topic: 'q2', payload: 'two', qos: 2 });
  await e.publish({ topic: 'q2', payload: 'three', qos: 2 });
  const p1 = await a.next('publish'), p2 = await a.next('publish'), p3 = await a.next('publish');
  a.send({ cmd: 'pubrec', messageId: p3.messageId! });
  await a.next('pubrel');
  a.stream.destroy();
  await tick(30);
  const b = await connect(e, { version: 5, clientId: 'r', clean: false, properties: { sessionExpiryInterval: 60 } });
  assert.equal(b.connack!.sessionPresent, true);
  const r1 = await b.next('publish'), r2 = await b.next('publish');
  assert.equal(r1.dup, true); assert.equal(r1.messageId, p1.messageId); assert.equal(r1.payload.toString(), 'one');
  assert.equal(r2.dup, true); assert.equal(r2.messageId, p2.messageId);
  assert.equal((await b.next('pubrel')).messageId, p3.messageId);
});

test('[MQTT-3.1.2-4] v5 Clean Start 1 discards the existing session', async () => {
  const e = engine();
  const a = await connect(e, { version: 5, clientId: 'cs', clean: false, properties: { sessionExpiryInterval: 60 } });
  await a.subscribe('t', 1);
  a.end();
  await a.whenClosed;
  const b = await connect(e, { version: 5, clientId: 'cs', clean: true, properties: { sessionExpiryInterval: 60 } });
  assert.equal(b.connack!.sessionPresent, false);
  assert.equal(e.counters.subscriptions, 0);
});

test('[MQTT-3.1.2-11] v5 Session Expiry 0 (absent): the session ends with the connection', async () => {
  const e = engine();
  const a = await connect(e, { version: 5, clientId: 'se0', clean: false });
  await a.subscribe('t', 1);
  a.end();
  await a.whenClosed;
  await tick();
  assert.equal(e.sessions.has('se0'), false);
});

test('v5 Session Expiry: the offline session ends after its interval', async () => {
  const e = engine();
  const a = await connect(e, { version: 5, clientId: 'se1', clean: false, properties: { sessionExpiryInterval: 1 } });
  await a.subscribe('t', 1);
  a.end();
  await a.whenClosed;
  await tick();
  assert.equal(e.sessions.has('se1'), true);
  await tick(1300);
  assert.equal(e.sessions.has('se1'), false);
  assert.equal(e.counters.sessions_expired, 1);
});

test('[MQTT-3.14.2-2] v5 DISCONNECT may not set Session Expiry when CONNECT had 0 (protocol error)', async () => {
  const e = engine();
  const c = await connect(e, { version: 5 });
  c.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 30 } });
  assert.equal((await c.next('disconnect')).reasonCode, 0x82);
});

test('v5 DISCONNECT with Session Expiry 0 ends a persistent session at once', async () => {
  const e = engine();
  const c = await connect(e, { version: 5, clientId: 'dz', clean: false, properties: { sessionExpiryInterval: 300 } });
  c.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 0 } });
  await c.whenClosed;
  await tick();
  assert.equal(e.sessions.has('dz'), false);
});

test('v5 Session Expiry above maxSessionExpirySec: CONNACK says the value used', async () => {
  const e = engine({ limits: { maxSessionExpirySec: 100 } });
  const c = await connect(e, { version: 5, clientId: 'cap', clean: false, properties: { sessionExpiryInterval: 0xffffffff } });
  assert.equal(c.connack!.properties?.sessionExpiryInterval, 100);
});

test('queue policy: an offline session holds at most maxQueuedPerSession; over it QoS 1 is dropped and counted', async () => {
  const e = engine({ limits: { maxQueuedPerSession: 3 } });
  const a = await connect(e, { clientId: 'qq', clean: false });
  await a.subscribe('t', 1);
  a.end();
  await a.whenClosed;
  await tick();
  for (let i = 0; i < 5; i++) await e.publish({ topic: 't', payload: String(i), qos: 1 });
  assert.equal(e.counters.queue_full, 2);
  const b = await connect(e, { clientId: 'qq', clean: false });
  const got = [];
  for (let i = 0; i < 3; i++) { const p = await b.next('publish'); got.push(p.payload.toString()); b.send({ cmd: 'puback', messageId: p.messageId! }); }
  assert.deepEqual(got, ['0', '1', '2']);
});

test('queue policy: when full, a QoS 1 message evicts the oldest queued QoS 0', async () => {
  const e = engine({ limits: { maxQueuedPerSession: 3 } });
  const a = await connect(e, { version: 5, clientId: 'ev', properties: { receiveMaximum: 1 } });
  await a.subscribe('t', 1);
  await e.publish({ topic: 't', payload: 'inflight', qos: 1 }); // fills the window
  await e.publish({ topic: 't', payload: 'b1', qos: 1 }); // window full: queued
  await e.publish({ topic: 't', payload: 'a0', qos: 0 }); // queue non-empty: QoS 0 queues behind it (order)
  await e.publish({ topic: 't', payload: 'c0', qos: 0 });
  await e.publish({ topic: 't', payload: 'd1', qos: 1 }); // full: evicts a0
  assert.equal(e.counters.dropped_qos0, 1);
  const got: string[] = [];
  for (let i = 0; i < 4; i++) {
    const p = await a.next('publish');
    got.push(p.payload.toString());
    if (p.qos === 1) a.send({ cmd: 'puback', messageId: p.messageId! });
  }
  assert.deepEqual(got, ['inflight', 'b1', 'c0', 'd1']);
});

test('[MQTT-3.10.4-5] v5 UNSUBSCRIBE: 0x00 for a held filter, 0x11 for one not held', async () => {
  const e = engine();
  const c = await connect(e, { version: 5 });
  await c.subscribe('a', 0);
  c.send({ cmd: 'unsubscribe', messageId: 3, unsubscriptions: ['a', 'b'] });
  const u = await c.next('unsuback');
  assert.deepEqual(u.granted, [0x00, 0x11]);
  await e.publish({ topic: 'a', payload: 'x' });
  assert.ok(await c.none('publish'));
});

test('[MQTT-3.8.4-3] a SUBSCRIBE of a held filter replaces it (new QoS)', async () => {
  const e = engine();
  const c = await connect(e);
  await c.subscribe('a', 0);
  await c.subscribe('a', 1, undefined, 2);
  assert.equal(e.counters.subscriptions, 1);
  await e.publish({ topic: 'a', payload: 'x', qos: 1 });
  assert.equal((await c.next('publish')).qos, 1);
});

test('[MQTT-3.9.3] SUBACK: refused filter gets 0x80 on 3.1.1, the hook code on v5, 0x80 under refuseSubscribeWith0x80', async () => {
  const hooks = { authorizeSubscribe: (_c: unknown, f: string, q: 0 | 1 | 2) => (f === 'test/nosubscribe' ? 0x87 : q) };
  const e = engine({ hooks });
  const v4 = await connect(e);
  assert.deepEqual(await v4.subscribe([{ topic: 'ok', qos: 2 }, { topic: 'test/nosubscribe', qos: 1 }]), [2, 0x80]);
  const v5 = await connect(e, { version: 5 });
  assert.deepEqual(await v5.subscribe('test/nosubscribe', 0), [0x87]);
  const paho = engine({ hooks, limits: { refuseSubscribeWith0x80: true } });
  const p5 = await connect(paho, { version: 5 });
  assert.deepEqual(await p5.subscribe('test/nosubscribe', 0), [0x80]);
});

test('[MQTT-4.7.1-2/3] invalid filters: SUBACK 0x8F (v5) / 0x80 (3.1.1), the connection stays', async () => {
  const e = engine();
  const v5 = await connect(e, { version: 5 });
  assert.deepEqual(await v5.subscribe([{ topic: 'a/#/b', qos: 0 }, { topic: 'a+', qos: 0 }, { topic: '$share/g', qos: 0 }, { topic: 'ok/+', qos: 1 }]), [0x8f, 0x8f, 0x8f, 1]);
  const v4 = await connect(e);
  assert.deepEqual(await v4.subscribe('#/x', 0), [0x80]);
});

test('maxSubscriptionsPerClient: over it SUBACK 0x97 (v5)', async () => {
  const e = engine({ limits: { maxSubscriptionsPerClient: 2 } });
  const c = await connect(e, { version: 5 });
  assert.deepEqual(await c.subscribe([{ topic: 'a', qos: 0 }, { topic: 'b', qos: 0 }, { topic: 'c', qos: 0 }, { topic: 'a', qos: 1 }]), [0, 0, 0x97, 1]);
});
