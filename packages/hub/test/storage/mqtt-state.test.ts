// The MQTT engine's durable state on the hub's databases: the engine's own contract
// suite, unchanged, on SQLite and PostgreSQL; an engine restart on each (in-flight
// resent with DUP, an inbound QoS 2 id not routed twice); the buffer's failure policy.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '@fieldlink/mqtt';
import { storeContract } from '../../../mqtt/test/store-contract.js';
import { connect, tick } from '../../../mqtt/test/helpers.js';
import { SqliteStore } from '../../src/storage/sqlite.js';
import { PostgresStore } from '../../src/storage/postgres.js';
import type { Store } from '../../src/storage/types.js';
import { SqliteEngine } from '../../src/storage/sqlite-engine.js';
import { coalesce, type StateOp } from '../../src/storage/mqtt-state.js';
import { PG_URL, dropSchema, randomSchema, requirePostgres } from './pg-harness.js';
import { startCuttableProxy } from '../proxy.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

/** Opens a fresh database; `reopen` opens a second Store on it, as a restarted hub would. */
type Db = { open(): Promise<Store>; cleanup(): Promise<void> };
async function sqliteDb(durability: 'process' | 'power' = 'process'): Promise<Db> {
  const dir = await mkdtemp(join(tmpdir(), 'fl-mqtt-state-'));
  dirs.push(dir);
  return { open: async () => { const s = new SqliteStore({ path: join(dir, 'm.db'), durability }); await s.init(); return s; }, cleanup: async () => undefined };
}
async function pgDb(): Promise<Db> {
  await requirePostgres();
  const schema = randomSchema();
  return { open: async () => { const s = new PostgresStore({ url: PG_URL, schema }); await s.init(); return s; }, cleanup: () => dropSchema(schema) };
}

function contractOn(name: string, mk: () => Promise<Db>): void {
  storeContract(name, async () => {
    const db = await mk();
    const stores: Store[] = [await db.open()];
    return {
      store: stores[0]!.mqttState(),
      reopen: async () => { const s = await db.open(); stores.push(s); return s.mqttState(); },
      cleanup: async () => { for (const s of stores) await s.close(); await db.cleanup(); },
    };
  });
}

contractOn('sqlite', () => sqliteDb());
contractOn('sqlite (durability power)', () => sqliteDb('power'));
contractOn('postgres', pgDb);

function restartOn(name: string, mk: () => Promise<Db>): void {
  test(`${name}: an engine restarted on the database resends in-flight with DUP, queued in order, and does not route a resent QoS 2 twice`, async () => {
    const db = await mk();
    const s1 = await db.open();
    const e1 = new Engine({ store: s1.mqttState() });
    await e1.restore();
    const a = await connect(e1, { version: 5, clientId: 'dev', clean: false, properties: { sessionExpiryInterval: 600 } });
    await a.subscribe('cmd/#', 1, { subscriptionIdentifier: 4 });
    await e1.publish({ topic: 'cmd/x', payload: 'inflight', qos: 1 });
    const first = await a.next('publish');
    // a QoS 2 PUBLISH from the client: PUBREC sent, PUBREL not yet
    a.publish('up/x', 'once', { qos: 2, messageId: 77 });
    await a.next('pubrec');
    a.stream.destroy();
    await tick(30);
    await e1.publish({ topic: 'cmd/y', payload: 'queued', qos: 1 });
    await e1.publish({ topic: 'keep', payload: 'r', retain: true });
    await e1.close();
    await e1.store.close();
    await s1.close();

    const s2 = await db.open();
    const e2 = new Engine({ store: s2.mqttState() });
    await e2.restore();
    const ups: string[] = [];
    e2.subscribeLocal('up/#', (m) => ups.push(m.payload.toString()));
    assert.equal((await e2.retained('keep')).length, 1);
    const b = await connect(e2, { version: 5, clientId: 'dev', clean: false, properties: { sessionExpiryInterval: 600 } });
    assert.equal(b.connack!.sessionPresent, true);
    const r1 = await b.next('publish');
    assert.equal(r1.messageId, first.messageId);
    assert.equal(r1.dup, true);
    b.send({ cmd: 'puback', messageId: r1.messageId! });
    const r2 = await b.next('publish');
    assert.equal(r2.payload.toString(), 'queued');
    assert.equal(r2.properties?.subscriptionIdentifier, 4);
    b.send({ cmd: 'puback', messageId: r2.messageId! });
    // the client resends its QoS 2 PUBLISH (DUP): the id is known, so it is not routed again [MQTT-4.3.3-10]
    b.publish('up/x', 'once', { qos: 2, messageId: 77, dup: true });
    await b.next('pubrec');
    b.send({ cmd: 'pubrel', messageId: 77 });
    await b.next('pubcomp');
    assert.deepEqual(ups, []);
    await e2.close();
    await e2.store.close();
    await s2.close();
    await db.cleanup();
  });
}
restartOn('sqlite', () => sqliteDb());
restartOn('postgres', pgDb);

test('sqlite: a failed commit rejects the flush waiting on it, is counted, and its rows are kept and retried', async () => {
  const db = await sqliteDb();
  const s = await db.open();
  const st = s.mqttState({ retryMs: 20 });
  st.putSession({ clientId: 'c', protocolVersion: 5, expirySec: 60 });
  await st.flush();
  await s.close(); // the writer is gone: every commit now fails
  st.putRetained({ topic: 'r', payload: Buffer.from('x'), qos: 1, retain: true, ts: 1 });
  await assert.rejects(st.flush(), /closed/);
  assert.equal(st.stats().commitFailures >= 1, true);
  assert.equal(st.stats().pending, 1);
  assert.equal(st.stats().committed, 1);
});

test('sqlite: beyond maxPending rows are dropped and counted, and every later flush rejects', async () => {
  const db = await sqliteDb();
  const s = await db.open();
  const st = s.mqttState({ maxPending: 3 });
  for (let i = 0; i < 5; i++) st.putRetained({ topic: `r/${i}`, payload: Buffer.from('x'), qos: 0, retain: true, ts: 1 });
  assert.equal(st.stats().dropped, 2);
  await assert.rejects(st.flush(), /buffer full/);
  await tick(20);
  await assert.rejects(st.flush(), /buffer full/);
  assert.equal(st.stats().committed, 3);
  await st.close();
  await s.close();
});

test('--durability: the SQLite writer commits with synchronous NORMAL (process) or FULL (power)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fl-durability-'));
  dirs.push(dir);
  for (const [synchronous, expected] of [['NORMAL', 1], ['FULL', 2]] as const) {
    const e = new SqliteEngine({ path: join(dir, `${synchronous}.db`), role: 'writer', synchronous });
    assert.equal(e.db.pragma('synchronous', { simple: true }), expected);
    assert.equal(e.db.pragma('journal_mode', { simple: true }), 'wal');
    e.close();
  }
});

test('a batch keeps the last outbound/retained record per key between session records; everything else in order', () => {
  const m = { topic: 't', payload: new Uint8Array([1]), qos: 1, retain: false, props: null, ts: 1 };
  const out = (seq: number, state: 'queued' | 'publish') => ({ k: 'out' as const, c: 'c', seq, m, qos: 1, retain: false, ids: null, pid: state === 'queued' ? 0 : seq, state });
  const ops: StateOp[] = [
    { k: 'session', c: 'c', proto: 5, expirySec: 60, owner: null },
    out(1, 'queued'), { k: 'sub', c: 'c', key: 'a', qos: 1, nl: false, rap: false, rh: 0, id: 0 }, out(1, 'publish'), { k: 'delOut', c: 'c', seq: 1 },
    out(2, 'queued'), { k: 'ret', m }, { k: 'delRet', topic: 't' },
    { k: 'delSession', c: 'c' }, out(3, 'queued'),
  ];
  assert.deepEqual(coalesce(ops).map((o) => `${o.k}${'seq' in o ? o.seq : ''}`), ['session', 'sub', 'delOut1', 'delRet', 'out2', 'delSession', 'out3']);
});

test('sqlite: a restored session whose subscription the hooks screened has its live deliveries re-authorised after a restart', async () => {
  const db = await sqliteDb();
  const hooks = { screensSubscription: (_c: unknown, f: string) => f === '#', authorizeDelivery: (_c: unknown, m: { topic: string }) => !m.topic.startsWith('secret/') };
  const s1 = await db.open();
  const e1 = new Engine({ store: s1.mqttState(), hooks });
  await e1.restore();
  const a = await connect(e1, { version: 5, clientId: 'wide', clean: false, properties: { sessionExpiryInterval: 600 } });
  await a.subscribe('#', 1);
  a.stream.destroy();
  await tick(30);
  await e1.close();
  await e1.store.close();
  await s1.close();
  const s2 = await db.open();
  const e2 = new Engine({ store: s2.mqttState(), hooks });
  await e2.restore();
  const b = await connect(e2, { version: 5, clientId: 'wide', clean: false, properties: { sessionExpiryInterval: 600 } });
  assert.equal(b.connack!.sessionPresent, true);
  await e2.publish({ topic: 'secret/x', payload: 'no', qos: 0 });
  await e2.publish({ topic: 'ok/x', payload: 'yes', qos: 0 });
  const p = await b.next('publish');
  assert.equal(p.topic, 'ok/x');
  await e2.close();
  await e2.store.close();
  await s2.close();
});

test('sqlite: an outbound QoS 2 whose PUBREL was sent comes back as PUBREL with its packet id after a restart', async () => {
  const db = await sqliteDb();
  const s1 = await db.open();
  const e1 = new Engine({ store: s1.mqttState() });
  await e1.restore();
  const a = await connect(e1, { version: 4, clientId: 'q2', clean: false });
  await a.subscribe('q2/#', 2);
  await e1.publish({ topic: 'q2/x', payload: 'exactly once', qos: 2 });
  const p = await a.next('publish');
  a.send({ cmd: 'pubrec', messageId: p.messageId! });
  assert.equal((await a.next('pubrel')).messageId, p.messageId);
  a.stream.destroy(); // before PUBCOMP
  await tick(30);
  await e1.close();
  await e1.store.close();
  await s1.close();
  const s2 = await db.open();
  const e2 = new Engine({ store: s2.mqttState() });
  await e2.restore();
  const b = await connect(e2, { version: 4, clientId: 'q2', clean: false });
  assert.equal(b.connack!.sessionPresent, true);
  assert.equal((await b.next('pubrel')).messageId, p.messageId);
  assert.equal(b.received.filter((x) => x.cmd === 'publish').length, 0, 'the message itself is not sent again');
  await e2.close();
  await e2.store.close();
  await s2.close();
});

test('postgres: with the server cut off, flush rejects and failures are counted; once it is back the kept records commit, in order', async () => {
  await requirePostgres();
  const target = new URL(PG_URL);
  const proxy = await startCuttableProxy(Number(target.port || 5432), target.hostname);
  const via = new URL(PG_URL);
  via.hostname = '127.0.0.1';
  via.port = String(proxy.port);
  const schema = randomSchema();
  const store = new PostgresStore({ url: via.href, schema, connectTimeoutMs: 1000 });
  try {
    await store.init();
    const st = store.mqttState({ retryMs: 50 });
    st.putSession({ clientId: 'c', protocolVersion: 5, expirySec: 60 });
    await st.flush();
    proxy.cut();
    st.putOutbound('c', { seq: 1, msg: { topic: 't', payload: Buffer.from('a'), qos: 1, retain: false, ts: 1 }, qos: 1, retain: false, ids: null, pid: 0, state: 'queued' });
    st.putRetained({ topic: 'r', payload: Buffer.from('x'), qos: 1, retain: true, ts: 1 });
    await assert.rejects(st.flush());
    assert.ok(st.stats().commitFailures >= 1);
    assert.equal(st.stats().pending, 2);
    proxy.restore();
    const deadline = Date.now() + 15_000;
    for (;;) { // each flush waits for the next retry; it resolves once the kept records are committed
      try { await st.flush(); break; } catch (err) { if (Date.now() > deadline) throw err; }
    }
    assert.equal(st.stats().pending, 0);
    const snap = await st.load();
    assert.deepEqual(snap.sessions[0]!.outbound.map((o) => o.msg.payload.toString()), ['a']);
    assert.deepEqual(snap.retained.map((r) => r.topic), ['r']);
    await st.close();
  } finally {
    await store.close();
    await proxy.close();
    await dropSchema(schema);
  }
});
