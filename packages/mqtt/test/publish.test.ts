import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IPublishPacket } from 'mqtt-packet';
import { connect, engine, tick } from './helpers.js';

test('[MQTT-4.3.1] QoS 0 is delivered once, no ack', async () => {
  const e = engine();
  const sub = await connect(e);
  await sub.subscribe('a/b', 0);
  const pub = await connect(e);
  pub.publish('a/b', 'hi');
  const p = await sub.next('publish');
  assert.equal(p.payload.toString(), 'hi');
  assert.equal(p.qos, 0);
  assert.ok(await pub.none('puback'));
});

test('[MQTT-4.3.2] QoS 1: PUBACK to the publisher, QoS 1 copy with a packet id to the subscriber', async () => {
  const e = engine();
  const sub = await connect(e);
  await sub.subscribe('a/b', 1);
  const pub = await connect(e);
  pub.publish('a/b', 'one', { qos: 1, messageId: 42 });
  assert.equal((await pub.next('puback')).messageId, 42);
  const p = await sub.next('publish');
  assert.equal(p.qos, 1);
  assert.ok(p.messageId! > 0);
  sub.send({ cmd: 'puback', messageId: p.messageId! });
  await tick();
  assert.equal(e.sessions.get([...e.sessions.keys()][0]!)!.inflightOut.size, 0);
});

test('[MQTT-4.3.3] QoS 2 inbound: PUBREC, PUBREL → PUBCOMP; a resent PUBLISH before PUBREL is not routed twice', async () => {
  const e = engine();
  const sub = await connect(e);
  await sub.subscribe('q2', 2);
  const pub = await connect(e);
  pub.publish('q2', 'x', { qos: 2, messageId: 7 });
  assert.equal((await pub.next('pubrec')).messageId, 7);
  pub.publish('q2', 'x', { qos: 2, messageId: 7, dup: true });
  assert.equal((await pub.next('pubrec')).messageId, 7);
  pub.send({ cmd: 'pubrel', messageId: 7 });
  assert.equal((await pub.next('pubcomp')).messageId, 7);
  const p = await sub.next('publish');
  assert.equal(p.qos, 2);
  assert.ok(await sub.none('publish'), 'routed once');
});

test('[MQTT-4.3.3] QoS 2 outbound: PUBREC → PUBREL, PUBCOMP frees the id', async () => {
  const e = engine();
  const sub = await connect(e, { clientId: 's' });
  await sub.subscribe('q2', 2);
  await e.publish({ topic: 'q2', payload: 'x', qos: 2 });
  const p = await sub.next('publish');
  sub.send({ cmd: 'pubrec', messageId: p.messageId! });
  assert.equal((await sub.next('pubrel')).messageId, p.messageId);
  sub.send({ cmd: 'pubcomp', messageId: p.messageId! });
  await tick();
  assert.equal(e.sessions.get('s')!.inflightOut.size, 0);
});

test('[MQTT-3.8.4-8] delivered at the lower of the message QoS and the granted QoS', async () => {
  const e = engine();
  const sub = await connect(e);
  await sub.subscribe('t', 1);
  await e.publish({ topic: 't', payload: 'x', qos: 2 });
  assert.equal((await sub.next('publish')).qos, 1);
  await e.publish({ topic: 't', payload: 'y', qos: 0 });
  assert.equal((await sub.next('publish')).qos, 0);
});

test('[MQTT-3.3.5-1] overlapping subscriptions: one copy at the highest QoS (3.1.1)', async () => {
  const e = engine();
  const sub = await connect(e);
  await sub.subscribe([{ topic: 'a/+', qos: 0 }, { topic: 'a/#', qos: 2 }, { topic: 'a/b', qos: 1 }]);
  await e.publish({ topic: 'a/b', payload: 'x', qos: 2 });
  const p = await sub.next('publish');
  assert.equal(p.qos, 2);
  assert.ok(await sub.none('publish'));
});

test('[MQTT-3.3.4-4] v5 overlapping subscriptions: one copy carrying every matching Subscription Identifier', async () => {
  const e = engine();
  const sub = await connect(e, { version: 5 });
  await sub.subscribe('a/+', 0, { subscriptionIdentifier: 3 }, 1);
  await sub.subscribe('a/#', 1, { subscriptionIdentifier: 9 }, 2);
  await sub.subscribe('#', 0, undefined, 3);
  await e.publish({ topic: 'a/b', payload: 'x', qos: 1 });
  const p = await sub.next('publish');
  assert.equal(p.qos, 1);
  assert.deepEqual([p.properties?.subscriptionIdentifier].flat().sort(), [3, 9]);
  assert.ok(await sub.none('publish'));
});

test('[MQTT-4.7.2-1] $ topics are not matched by leading wildcards; QoS 1 to $TopicA/B is acknowledged', async () => {
  const e = engine();
  const all = await connect(e);
  await all.subscribe([{ topic: '#', qos: 1 }, { topic: '+/B', qos: 1 }]);
  const dollar = await connect(e);
  await dollar.subscribe('$TopicA/B', 1);
  const pub = await connect(e);
  pub.publish('$TopicA/B', 'x', { qos: 1, messageId: 3 });
  assert.equal((await pub.next('puback')).messageId, 3);
  assert.equal((await dollar.next('publish')).topic, '$TopicA/B');
  assert.ok(await all.none('publish'));
  assert.equal(pub.closed, false);
});

test('[MQTT-3.3.5-2] v5 PUBLISH refused by the hook: PUBACK 0x87, connection stays; 3.1.1: positive ack, dropped', async () => {
  const e = engine({ hooks: { authorizePublish: (_c, m) => (m.topic.startsWith('deny') ? 0x87 : 0) } });
  const sub = await connect(e);
  await sub.subscribe('#', 1);
  const v5 = await connect(e, { version: 5 });
  v5.publish('deny/x', 'no', { qos: 1, messageId: 1 });
  const a = await v5.next('puback');
  assert.equal(a.reasonCode, 0x87);
  v5.publish('deny/x', 'no', { qos: 2, messageId: 2 });
  assert.equal((await v5.next('pubrec')).reasonCode, 0x87);
  v5.publish('ok/x', 'yes', { qos: 1, messageId: 3 });
  assert.equal((await v5.next('puback')).reasonCode, 0);
  const v4 = await connect(e);
  v4.publish('deny/y', 'no', { qos: 1, messageId: 9 });
  assert.equal((await v4.next('puback')).messageId, 9);
  const got = await sub.next('publish');
  assert.equal(got.topic, 'ok/x');
  assert.ok(await sub.none('publish'));
  assert.equal(e.counters.refused_publish, 3);
});

test('the paho profile: a refused v5 PUBLISH is acknowledged 0x87 without a Reason String (ackReasonStrings false)', async () => {
  const e = engine({ limits: { ackReasonStrings: false }, hooks: { authorizePublish: () => 0x87 } });
  const v5 = await connect(e, { version: 5 });
  v5.publish('deny/x', 'no', { qos: 1, messageId: 1 });
  const a = await v5.next('puback');
  assert.equal(a.reasonCode, 0x87);
  assert.equal(a.properties?.reasonString, undefined);
});

test('[MQTT-3.3.2-2] a topic name with wildcards closes the connection (v5 DISCONNECT 0x90)', async () => {
  const e = engine();
  const c = await connect(e, { version: 5 });
  c.publish('a/+', 'x');
  assert.equal((await c.next('disconnect')).reasonCode, 0x90);
  await c.whenClosed;
});

test('a topic longer than maxTopicBytes: v5 PUBACK 0x90, the connection stays', async () => {
  const e = engine({ limits: { maxTopicBytes: 16 } });
  const c = await connect(e, { version: 5 });
  c.publish('x'.repeat(17), 'x', { qos: 1, messageId: 4 });
  assert.equal((await c.next('puback')).reasonCode, 0x90);
  c.send({ cmd: 'pingreq' });
  await c.next('pingresp');
});

test('v5 PUBACK 0x10 when no subscription matched', async () => {
  const e = engine();
  const c = await connect(e, { version: 5 });
  c.publish('nobody', 'x', { qos: 1, messageId: 4 });
  assert.equal((await c.next('puback')).reasonCode, 0x10);
});

test('[MQTT-4.6.0-5/6] order per publisher and topic is kept across QoS levels', async () => {
  const e = engine();
  const sub = await connect(e);
  await sub.subscribe('o', 2);
  const pub = await connect(e);
  const qs = [0, 1, 2, 0, 0, 1, 2, 2, 0, 1] as const;
  qs.forEach((q, i) => pub.publish('o', String(i), { qos: q, messageId: i + 1 }));
  const got: string[] = [];
  for (let i = 0; i < qs.length; i++) {
    const p = await sub.next('publish');
    got.push(p.payload.toString());
    if (p.qos === 1) sub.send({ cmd: 'puback', messageId: p.messageId! });
    if (p.qos === 2) sub.send({ cmd: 'pubrec', messageId: p.messageId! });
  }
  assert.deepEqual(got, qs.map((_q, i) => String(i)));
});

test('[MQTT-3.3.4-7] v5 client Receive Maximum: no more QoS 1 in flight than it allows; the rest follows acks in order', async () => {
  const e = engine();
  const sub = await connect(e, { version: 5, properties: { receiveMaximum: 2 } });
  await sub.subscribe('w', 1);
  for (let i = 0; i < 5; i++) await e.publish({ topic: 'w', payload: String(i), qos: 1 });
  await tick(50);
  const first = [await sub.next('publish'), await sub.next('publish')];
  assert.ok(await sub.none('publish', 100), 'window of 2');
  const got = first.map((p) => p.payload.toString());
  for (const p of first) sub.send({ cmd: 'puback', messageId: p.messageId! });
  for (let i = 0; i < 3; i++) { const p = await sub.next('publish'); got.push(p.payload.toString()); sub.send({ cmd: 'puback', messageId: p.messageId! }); }
  assert.deepEqual(got, ['0', '1', '2', '3', '4']);
});

test('[MQTT-3.3.4-9] more QoS 2 awaiting PUBREL than our Receive Maximum: DISCONNECT 0x93', async () => {
  const e = engine({ limits: { receiveMaximum: 2 } });
  const bystander = await connect(e, { version: 5 });
  const c = await connect(e, { version: 5 });
  for (let i = 1; i <= 3; i++) c.publish('q', 'x', { qos: 2, messageId: i });
  assert.equal((await c.next('disconnect')).reasonCode, 0x93);
  await c.whenClosed;
  bystander.send({ cmd: 'pingreq' });
  await bystander.next('pingresp');
});

test('[MQTT-3.3.2-8/9] inbound Topic Alias: set then used; 0 or over our maximum is DISCONNECT 0x94', async () => {
  const e = engine({ limits: { topicAliasMaximum: 2 } });
  const sub = await connect(e);
  await sub.subscribe('long/topic/name', 0);
  const c = await connect(e, { version: 5 });
  c.publish('long/topic/name', 'a', { properties: { topicAlias: 1 } });
  c.publish('', 'b', { properties: { topicAlias: 1 } });
  assert.equal((await sub.next('publish')).payload.toString(), 'a');
  const p = await sub.next('publish');
  assert.equal(p.topic, 'long/topic/name');
  assert.equal(p.payload.toString(), 'b');
  c.publish('x', 'c', { properties: { topicAlias: 3 } });
  assert.equal((await c.next('disconnect')).reasonCode, 0x94);
});

test('outbound Topic Alias: the second message on a topic is sent with the alias and an empty topic', async () => {
  const e = engine();
  const sub = await connect(e, { version: 5, properties: { topicAliasMaximum: 1 } });
  await sub.subscribe('#', 0);
  await e.publish({ topic: 'aa/bb', payload: '1' });
  await e.publish({ topic: 'aa/bb', payload: '2' });
  await e.publish({ topic: 'cc', payload: '3' });
  const [a, b, c] = [await sub.next('publish'), await sub.next('publish'), await sub.next('publish')];
  assert.equal(a.topic, 'aa/bb'); assert.equal(a.properties?.topicAlias, 1);
  assert.equal(b.topic, ''); assert.equal(b.properties?.topicAlias, 1);
  assert.equal(c.topic, 'cc'); assert.equal(c.properties?.topicAlias, undefined, 'no alias beyond the client maximum');
});

test('[MQTT-3.1.2-25] never send a client more than its Maximum Packet Size: dropped for it and counted', async () => {
  const e = engine();
  const small = await connect(e, { version: 5, properties: { maximumPacketSize: 64 } });
  const big = await connect(e, { version: 5 });
  await small.subscribe('m', 1);
  await big.subscribe('m', 1);
  await e.publish({ topic: 'm', payload: Buffer.alloc(100), qos: 1 });
  await e.publish({ topic: 'm', payload: 'ok', qos: 1 });
  assert.equal((await big.next('publish')).payload.length, 100);
  assert.equal((await small.next('publish')).payload.toString(), 'ok');
  assert.equal(e.counters.dropped_too_large_for_client, 1);
});

test('[MQTT-3.3.2-6] Message Expiry is decremented on forward; an expired message is never delivered', async () => {
  let now = 1_000_000;
  const e = engine({ now: () => now });
  const sub = await connect(e, { version: 5, clientId: 'exp', clean: false, properties: { sessionExpiryInterval: 100 } });
  await sub.subscribe('e', 1);
  sub.end();
  await sub.whenClosed;
  await tick();
  await e.publish({ topic: 'e', payload: 'short', qos: 1, properties: { messageExpiryInterval: 5 } });
  await e.publish({ topic: 'e', payload: 'long', qos: 1, properties: { messageExpiryInterval: 60 } });
  now += 10_000;
  const again = await connect(e, { version: 5, clientId: 'exp', clean: false, properties: { sessionExpiryInterval: 100 } });
  const p = await again.next('publish');
  assert.equal(p.payload.toString(), 'long');
  assert.equal(p.properties?.messageExpiryInterval, 50);
  assert.ok(await again.none('publish'));
  assert.equal(e.counters.expired, 1);
});

test('[MQTT-3.3.2-?] v5 properties are forwarded unaltered: Payload Format, Content Type, Response Topic, Correlation Data, User Properties in order', async () => {
  const e = engine();
  const sub = await connect(e, { version: 5 });
  await sub.subscribe('req', 1);
  const pub = await connect(e, { version: 5 });
  const properties = {
    payloadFormatIndicator: true, contentType: 'application/json', responseTopic: 'res/1',
    correlationData: Buffer.from([1, 2, 3]), userProperties: { z: 'last?', a: ['1', '2'], m: 'mid' },
  };
  pub.publish('req', '{}', { qos: 1, messageId: 1, properties });
  const p = await sub.next('publish') as IPublishPacket;
  assert.equal(p.properties?.payloadFormatIndicator, true);
  assert.equal(p.properties?.contentType, 'application/json');
  assert.equal(p.properties?.responseTopic, 'res/1');
  assert.deepEqual(p.properties?.correlationData, Buffer.from([1, 2, 3]));
  assert.deepEqual(Object.entries(p.properties?.userProperties ?? {}), [['z', 'last?'], ['a', ['1', '2']], ['m', 'mid']]);
});

test('[MQTT-3.8.3-3] No Local: a client does not get its own messages on that subscription', async () => {
  const e = engine();
  const c = await connect(e, { version: 5 });
  await c.subscribe([{ topic: 'nl', qos: 0, nl: true }]);
  const other = await connect(e, { version: 5 });
  await other.subscribe('nl', 0);
  c.publish('nl', 'mine');
  assert.equal((await other.next('publish')).payload.toString(), 'mine');
  assert.ok(await c.none('publish'));
});

test('[MQTT-3.3.1-12/13] Retain As Published keeps RETAIN on forward; otherwise it is cleared', async () => {
  const e = engine();
  const rap = await connect(e, { version: 5 });
  await rap.subscribe([{ topic: 'r', qos: 0, rap: true, rh: 2 }]);
  const plain = await connect(e, { version: 5 });
  await plain.subscribe([{ topic: 'r', qos: 0, rh: 2 }]);
  await e.publish({ topic: 'r', payload: 'x', retain: true });
  assert.equal((await rap.next('publish')).retain, true);
  assert.equal((await plain.next('publish')).retain, false);
});

test('[MQTT-4.8.2] shared subscriptions: each message to one member of the group, round robin; others get every message', async () => {
  const e = engine();
  const a = await connect(e, { version: 5 });
  const b = await connect(e, { version: 5 });
  await a.subscribe('$share/g/s/#', 0);
  await b.subscribe('$share/g/s/#', 0);
  const local: string[] = [];
  e.subscribeLocal('s/#', (m) => local.push(m.payload.toString()), { shareGroup: 'g' });
  const plain = await connect(e);
  await plain.subscribe('s/#', 0);
  for (let i = 0; i < 6; i++) await e.publish({ topic: 's/x', payload: String(i) });
  await tick(50);
  const got = (c: typeof a): string[] => { const r: string[] = []; let p; while ((p = c.received.shift())) if (p.cmd === 'publish') r.push(p.payload.toString()); return r; };
  const ga = got(a), gb = got(b);
  assert.equal(ga.length + gb.length + local.length, 6);
  assert.deepEqual([...ga, ...gb, ...local].sort(), ['0', '1', '2', '3', '4', '5']);
  assert.equal(ga.length, 2); assert.equal(gb.length, 2); assert.equal(local.length, 2);
  assert.equal(got(plain).length, 6);
});

test('[MQTT-3.8.3-4] No Local on a shared subscription is a protocol error', async () => {
  const e = engine();
  const c = await connect(e, { version: 5 });
  c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '$share/g/x', qos: 0, nl: true }] });
  assert.equal((await c.next('disconnect')).reasonCode, 0x82);
});

test('in-process subscribers get the one shared message object; publish() routes to clients', async () => {
  const e = engine();
  const seen: unknown[] = [];
  e.subscribeLocal('d/+/t', (m) => seen.push(m));
  e.subscribeLocal('d/#', (m) => seen.push(m));
  const c = await connect(e);
  c.publish('d/1/t', 'x');
  await tick(30);
  assert.equal(seen.length, 2);
  assert.equal(seen[0], seen[1]);
});

test('screened subscription (hub authorisation per delivery): a screened subscription gets only what authorizeDelivery allows, live and retained', async () => {
  // Hooks.screensSubscription: a filter wider than the client may read (a grant with a narrower deny) is accepted, then screened.
  const e = engine({
    hooks: {
      screensSubscription: (_c, filter) => filter === 'test/#',
      authorizeDelivery: (_c, m) => m.topic !== 'test/nosubscribe',
    },
  });
  await e.publish({ topic: 'test/nosubscribe', payload: 'hidden-retained', retain: true });
  await e.publish({ topic: 'test/ok', payload: 'shown-retained', retain: true });
  const sub = await connect(e);
  await sub.subscribe('test/#', 0);
  assert.equal((await sub.next('publish')).payload.toString(), 'shown-retained');
  const pub = await connect(e);
  pub.publish('test/nosubscribe', 'hidden-live');
  pub.publish('test/ok', 'shown-live');
  assert.equal((await sub.next('publish')).payload.toString(), 'shown-live');
  assert.ok(await sub.none('publish'), 'nothing denied arrives');
  assert.equal(e.counters.refused_delivery, 2);
  // an unscreened subscriber of the same topics gets everything, on the fast path
  const plain = await connect(e);
  await plain.subscribe('other/#', 0);
  pub.publish('other/x', 'fast');
  assert.equal((await plain.next('publish')).payload.toString(), 'fast');
});
