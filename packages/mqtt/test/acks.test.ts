/**
 * Acknowledge after commit (src/acks.ts): PUBACK/PUBREC wait for Hooks.durable and
 * for store.flush() when engine state changed, in PUBLISH order; refusals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore, type EngineMessage, type EngineStore } from '../src/index.js';
import { connect, engine, tick } from './helpers.js';

/** A promise resolved or rejected from outside. */
function gate(): { p: Promise<void>; open: () => void; fail: (e: Error) => void } {
  let open!: () => void;
  let fail!: (e: Error) => void;
  const p = new Promise<void>((res, rej) => { open = res; fail = rej; });
  return { p, open, fail };
}

/** A store that buffers records (delegates to a MemoryStore) and commits when the test opens a gate. */
class GatedStore implements EngineStore {
  readonly mem = new MemoryStore();
  flushes: ReturnType<typeof gate>[] = [];
  load = () => this.mem.load();
  putSession: EngineStore['putSession'] = (...a) => this.mem.putSession(...a);
  setSessionExpiry: EngineStore['setSessionExpiry'] = (...a) => this.mem.setSessionExpiry(...a);
  deleteSession: EngineStore['deleteSession'] = (...a) => this.mem.deleteSession(...a);
  putSubscription: EngineStore['putSubscription'] = (...a) => this.mem.putSubscription(...a);
  deleteSubscription: EngineStore['deleteSubscription'] = (...a) => this.mem.deleteSubscription(...a);
  putOutbound: EngineStore['putOutbound'] = (...a) => this.mem.putOutbound(...a);
  deleteOutbound: EngineStore['deleteOutbound'] = (...a) => this.mem.deleteOutbound(...a);
  putInflightIn: EngineStore['putInflightIn'] = (...a) => this.mem.putInflightIn(...a);
  deleteInflightIn: EngineStore['deleteInflightIn'] = (...a) => this.mem.deleteInflightIn(...a);
  putWill: EngineStore['putWill'] = (...a) => this.mem.putWill(...a);
  deleteWill: EngineStore['deleteWill'] = (...a) => this.mem.deleteWill(...a);
  putRetained: EngineStore['putRetained'] = (...a) => this.mem.putRetained(...a);
  deleteRetained: EngineStore['deleteRetained'] = (...a) => this.mem.deleteRetained(...a);
  flush = (): Promise<void> => { const g = gate(); this.flushes.push(g); return g.p; };
  close = async (): Promise<void> => {};
}

/** An engine whose durable hook hands out one gate per PUBLISH on `held/#`. */
function heldEngine() {
  const gates: ReturnType<typeof gate>[] = [];
  const e = engine({ hooks: { durable: (_c, m: EngineMessage) => { if (!m.topic.startsWith('held/')) return undefined; const g = gate(); gates.push(g); return g.p; } } });
  return { e, gates };
}

test('[MQTT-4.6.0-2] PUBACKs wait for the commit and leave in PUBLISH order', async () => {
  const { e, gates } = heldEngine();
  const pub = await connect(e);
  pub.publish('held/a', '1', { qos: 1, messageId: 1 });
  pub.publish('held/a', '2', { qos: 1, messageId: 2 });
  pub.publish('free/a', '3', { qos: 1, messageId: 3 }); // nothing to commit, but behind 1 and 2
  await tick();
  assert.equal(gates.length, 2);
  gates[1]!.open();
  assert.ok(await pub.none('puback'), 'no ack before the first commit');
  gates[0]!.open();
  assert.deepEqual([(await pub.next('puback')).messageId, (await pub.next('puback')).messageId, (await pub.next('puback')).messageId], [1, 2, 3]);
  assert.equal(e.counters.acks_deferred, 2);
});

test('[MQTT-4.3.2-4] without a commit to wait for, the PUBACK is sent at once (QoS 0 unchanged)', async () => {
  const { e } = heldEngine();
  const pub = await connect(e);
  pub.publish('free/a', 'x', { qos: 1, messageId: 9 });
  pub.publish('held/a', 'q0', { qos: 0 }); // the hook is never asked for QoS 0
  assert.equal((await pub.next('puback')).messageId, 9);
  assert.equal(e.counters.acks_deferred, 0);
});

test('[MQTT-4.3.3-9] PUBREC waits for the commit too', async () => {
  const { e, gates } = heldEngine();
  const pub = await connect(e, { version: 5 });
  pub.publish('held/q2', 'x', { qos: 2, messageId: 5 });
  assert.ok(await pub.none('pubrec'));
  gates[0]!.open();
  assert.equal((await pub.next('pubrec')).messageId, 5);
  pub.send({ cmd: 'pubrel', messageId: 5 });
  assert.equal((await pub.next('pubcomp')).messageId, 5);
});

test('[MQTT-3.4.2-1] v5: a refused commit is PUBACK 0x97 (queue full) or 0x80 (store failed), counted', async () => {
  const { e, gates } = heldEngine();
  const pub = await connect(e, { version: 5 });
  pub.publish('held/a', '1', { qos: 1, messageId: 1 });
  pub.publish('held/a', '2', { qos: 1, messageId: 2 });
  await tick();
  gates[0]!.fail(Object.assign(new Error('ingest queue full'), { reasonCode: 0x97 }));
  gates[1]!.fail(new Error('store failed'));
  const a = await pub.next('puback');
  const b = await pub.next('puback');
  assert.deepEqual([a.messageId, a.reasonCode, b.messageId, b.reasonCode], [1, 0x97, 2, 0x80]);
  assert.equal(e.counters.ack_refused, 2);
});

test('[MQTT-4.3.2] 3.1.1: a refused commit is not acknowledged (the client resends); later acks still flow', async () => {
  const { e, gates } = heldEngine();
  const pub = await connect(e);
  pub.publish('held/a', '1', { qos: 1, messageId: 1 });
  pub.publish('held/a', '2', { qos: 1, messageId: 2 });
  await tick();
  gates[0]!.fail(new Error('store failed'));
  gates[1]!.open();
  assert.equal((await pub.next('puback')).messageId, 2);
  assert.ok(await pub.none('puback'));
  assert.equal(e.counters.ack_refused, 1);
});

test('[MQTT-4.3.3] a refused QoS 2 PUBLISH frees its packet id: the resend is a new PUBLISH, routed and held again', async () => {
  const { e, gates } = heldEngine();
  const pub = await connect(e);
  pub.publish('held/q2', 'x', { qos: 2, messageId: 3 });
  await tick();
  gates[0]!.fail(new Error('store failed'));
  assert.ok(await pub.none('pubrec'));
  pub.publish('held/q2', 'x', { qos: 2, messageId: 3, dup: true });
  await tick();
  assert.equal(gates.length, 2, 'routed again, a new commit');
  gates[1]!.open();
  assert.equal((await pub.next('pubrec')).messageId, 3);
});

test('[MQTT-4.4.0-1] a connection closed with acks waiting drops them; the engine keeps serving', async () => {
  const { e, gates } = heldEngine();
  const pub = await connect(e);
  pub.publish('held/a', '1', { qos: 1, messageId: 1 });
  await tick();
  pub.end();
  await pub.whenClosed;
  gates[0]!.open();
  await tick();
  const other = await connect(e);
  other.publish('free/a', 'x', { qos: 1, messageId: 4 });
  assert.equal((await other.next('puback')).messageId, 4);
});

test('[MQTT-3.3.1-5] a retained PUBLISH is acknowledged after the store committed it', async () => {
  const store = new GatedStore();
  const e = engine({ store });
  const pub = await connect(e);
  pub.publish('r/a', 'kept', { qos: 1, retain: true, messageId: 8 });
  assert.ok(await pub.none('puback'));
  assert.equal(store.flushes.length, 1);
  store.flushes[0]!.open();
  assert.equal((await pub.next('puback')).messageId, 8);
});

test('[MQTT-3.1.2-5] a PUBLISH queued for an offline persistent session is acknowledged after the store committed it', async () => {
  const store = new GatedStore();
  const e = engine({ store });
  const sub = await connect(e, { clientId: 'keep', clean: false });
  await sub.subscribe('q/a', 1);
  sub.end();
  await sub.whenClosed;
  await tick();
  const pub = await connect(e);
  pub.publish('q/b', 'nobody', { qos: 1, messageId: 1 }); // no session state touched: at once
  assert.equal((await pub.next('puback')).messageId, 1);
  const before = store.flushes.length;
  pub.publish('q/a', 'queued', { qos: 1, messageId: 2 });
  assert.ok(await pub.none('puback'));
  assert.equal(store.flushes.length, before + 1);
  store.flushes.at(-1)!.open();
  assert.equal((await pub.next('puback')).messageId, 2);
});

test('ack queue bound: at receiveMaximum waiting acks the connection stops reading until the head commits', async () => {
  const gates: ReturnType<typeof gate>[] = [];
  const e = engine({ limits: { maxInflightIn: 2 }, hooks: { durable: () => { const g = gate(); gates.push(g); return g.p; } } });
  const pub = await connect(e);
  for (let i = 1; i <= 4; i++) pub.publish('held/a', String(i), { qos: 1, messageId: i });
  await tick();
  assert.equal(gates.length, 2, 'the third PUBLISH is not read yet');
  assert.equal(e.counters.ack_backpressure, 1);
  gates[0]!.open();
  gates[1]!.open();
  assert.equal((await pub.next('puback')).messageId, 1);
  assert.equal((await pub.next('puback')).messageId, 2);
  await tick();
  assert.equal(gates.length, 4, 'reading resumed');
  gates[2]!.open();
  gates[3]!.open();
  assert.equal((await pub.next('puback')).messageId, 3);
  assert.equal((await pub.next('puback')).messageId, 4);
});

test('[MQTT-4.3.3-9] a QoS 2 resend on a new connection of a persistent session waits for the original commit', async () => {
  const { e, gates } = heldEngine();
  const a = await connect(e, { clientId: 'q2keep', clean: false });
  a.publish('held/q2', 'x', { qos: 2, messageId: 11 });
  await tick();
  a.end();
  await a.whenClosed;
  await tick();
  const b = await connect(e, { clientId: 'q2keep', clean: false });
  b.publish('held/q2', 'x', { qos: 2, messageId: 11, dup: true });
  assert.ok(await b.none('pubrec'), 'no PUBREC while the original is not committed');
  assert.equal(gates.length, 1, 'not routed twice');
  gates[0]!.open();
  assert.equal((await b.next('pubrec')).messageId, 11);
});

test('[MQTT-4.3.3-9] a persistent session records a QoS 2 packet id only after the PUBLISH is committed (a crash before: the resend is routed again)', async () => {
  const store = new GatedStore();
  const recorded: number[] = [];
  const put = store.putInflightIn;
  store.putInflightIn = (clientId, pid) => { recorded.push(pid); put(clientId, pid); };
  const gates: ReturnType<typeof gate>[] = [];
  const e = engine({ store, hooks: { durable: () => { const g = gate(); gates.push(g); return g.p; } } });
  const a = await connect(e, { clientId: 'q2rec', clean: false });
  a.publish('held/q2', 'x', { qos: 2, messageId: 21 });
  await tick();
  assert.equal(gates.length, 1);
  assert.deepEqual(recorded, [], 'not recorded while the message is not committed');
  gates[0]!.open();
  await tick();
  assert.deepEqual(recorded, [21], 'recorded once committed');
  assert.ok(await a.none('pubrec'), 'PUBREC waits for that record too');
  store.flushes.at(-1)!.open();
  assert.equal((await a.next('pubrec')).messageId, 21);
});
