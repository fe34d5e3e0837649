import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, engine, tick } from './helpers.js';

test('[MQTT-3.3.1-5/8] a retained message is stored and sent to new subscribers with RETAIN 1', async () => {
  const e = engine();
  const pub = await connect(e);
  pub.publish('r/a', 'v1', { retain: true, qos: 1, messageId: 1 });
  await pub.next('puback');
  const sub = await connect(e);
  await sub.subscribe('r/#', 1);
  const p = await sub.next('publish');
  assert.equal(p.retain, true);
  assert.equal(p.payload.toString(), 'v1');
});

test('[MQTT-3.3.1-9] live messages are forwarded with RETAIN 0 to existing subscribers', async () => {
  const e = engine();
  const sub = await connect(e);
  await sub.subscribe('r/a', 0);
  await e.publish({ topic: 'r/a', payload: 'live', retain: true });
  assert.equal((await sub.next('publish')).retain, false);
});

test('[MQTT-3.3.1-10/11] a new retained message replaces the old; an empty payload clears it', async () => {
  const e = engine();
  await e.publish({ topic: 'r/a', payload: 'v1', retain: true });
  await e.publish({ topic: 'r/a', payload: 'v2', retain: true });
  assert.deepEqual((await e.retained('r/a')).map((m) => m.payload.toString()), ['v2']);
  await e.publish({ topic: 'r/a', payload: '', retain: true });
  assert.equal((await e.retained('#')).length, 0);
  const sub = await connect(e);
  await sub.subscribe('r/#', 0);
  assert.ok(await sub.none('publish'));
});

test('[MQTT-4.7.2-1] retained $ topics are not returned for leading wildcards', async () => {
  const e = engine();
  await e.publish({ topic: '$SYS/x', payload: '1', retain: true });
  await e.publish({ topic: 'a/x', payload: '2', retain: true });
  assert.deepEqual((await e.retained('#')).map((m) => m.topic), ['a/x']);
  assert.deepEqual((await e.retained('+/x')).map((m) => m.topic), ['a/x']);
  assert.deepEqual((await e.retained('$SYS/#')).map((m) => m.topic), ['$SYS/x']);
  assert.deepEqual((await e.retained('a/#')).map((m) => m.topic), ['a/x']);
});

test('[MQTT-3.3.1-9/10/11] Retain Handling 0 sends on every subscribe, 1 only when new, 2 never', async () => {
  const e = engine();
  await e.publish({ topic: 'rh', payload: 'x', retain: true });
  const c = await connect(e, { version: 5 });
  // three filters that all match 'rh', one per Retain Handling value
  for (const [rh, f, first, again] of [[0, 'rh', true, true], [1, 'rh/#', true, false], [2, '+', false, false]] as const) {
    await c.subscribe([{ topic: f, qos: 0, rh }], 0, undefined, 10 + rh);
    assert.equal(!(await c.none('publish', 80)), first, `rh ${rh} first`);
    await c.subscribe([{ topic: f, qos: 0, rh }], 0, undefined, 20 + rh);
    assert.equal(!(await c.none('publish', 80)), again, `rh ${rh} again`);
  }
});

test('retained quota: over maxRetainedTopics a v5 retained PUBLISH gets 0x97 and is not stored', async () => {
  const e = engine({ limits: { maxRetainedTopics: 2 } });
  const c = await connect(e, { version: 5 });
  for (let i = 1; i <= 3; i++) c.publish(`q/${i}`, 'x', { retain: true, qos: 1, messageId: i });
  const acks = [await c.next('puback'), await c.next('puback'), await c.next('puback')];
  assert.deepEqual(acks.map((a) => a.reasonCode ?? 0), [0x10, 0x10, 0x97]);
  assert.equal((await e.retained('#')).length, 2);
  c.publish('q/1', 'replace', { retain: true, qos: 1, messageId: 9 });
  assert.notEqual((await c.next('puback')).reasonCode, 0x97, 'replacing within the quota is fine');
  assert.equal(e.counters.retained_refused, 1);
});

test('retained bytes quota: maxRetainedBytes bounds the total', async () => {
  const e = engine({ limits: { maxRetainedBytes: 100 } });
  await e.publish({ topic: 'a', payload: Buffer.alloc(60), retain: true });
  await assert.rejects(e.publish({ topic: 'b', payload: Buffer.alloc(60), retain: true }), /quota/);
  await e.publish({ topic: 'a', payload: '', retain: true });
  await e.publish({ topic: 'b', payload: Buffer.alloc(60), retain: true });
  assert.equal(e.counters.retained_bytes, 61);
});

test('an expired retained message is not sent on subscribe', async () => {
  let now = 5_000;
  const e = engine({ now: () => now });
  await e.publish({ topic: 'x', payload: 'old', retain: true, properties: { messageExpiryInterval: 1 } });
  now += 2000;
  const c = await connect(e, { version: 5 });
  await c.subscribe('x', 0);
  assert.ok(await c.none('publish'));
  await tick();
  assert.equal(e.counters.retained, 0);
});
