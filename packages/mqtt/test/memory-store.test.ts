import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine, MemoryStore, memoryStoreData } from '../src/index.js';
import { storeContract } from './store-contract.js';
import { connect, tick } from './helpers.js';

storeContract('memory', async () => {
  const data = memoryStoreData();
  return { store: new MemoryStore(data), reopen: async () => new MemoryStore(data) };
});

test('engine restart on the same store: offline session, its queue, in-flight and retained come back', async () => {
  const data = memoryStoreData();
  const e1 = new Engine({ store: new MemoryStore(data) });
  const a = await connect(e1, { version: 5, clientId: 'dev', clean: false, properties: { sessionExpiryInterval: 600 } });
  await a.subscribe('cmd/#', 1, { subscriptionIdentifier: 4 });
  await e1.publish({ topic: 'cmd/x', payload: 'inflight', qos: 1 });
  const first = await a.next('publish');
  a.stream.destroy();
  await tick(30);
  await e1.publish({ topic: 'cmd/y', payload: 'queued', qos: 1 });
  await e1.publish({ topic: 'keep', payload: 'r', retain: true });
  await e1.close();

  const e2 = new Engine({ store: new MemoryStore(data) });
  await e2.restore();
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
  await e2.publish({ topic: 'cmd/z', payload: 'live', qos: 1 });
  b.send({ cmd: 'puback', messageId: r2.messageId! });
  assert.equal((await b.next('publish')).payload.toString(), 'live');
});

test('clean sessions and their QoS 0 traffic make no store call', async () => {
  const calls: string[] = [];
  const store = new MemoryStore();
  const spy = new Proxy(store, { get: (t, k) => { const v = Reflect.get(t, k); return typeof v === 'function' ? (...args: unknown[]) => { calls.push(String(k)); return v.apply(t, args); } : v; } });
  const e = new Engine({ store: spy });
  const s = await connect(e, { version: 5 });
  await s.subscribe('t', 1);
  const p = await connect(e);
  for (let i = 0; i < 10; i++) p.publish('t', 'x', { qos: i % 2 ? 1 : 0, messageId: i + 1 });
  for (let i = 0; i < 10; i++) { const m = await s.next('publish'); if (m.qos) s.send({ cmd: 'puback', messageId: m.messageId! }); }
  assert.deepEqual(calls, []);
});
