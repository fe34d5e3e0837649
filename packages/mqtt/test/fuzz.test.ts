/**
 * Seeded fuzz of the framer and the handlers: valid packets of every type, for 3.1.1
 * and 5, with random bytes mutated, truncated or appended, each stream on its own
 * connection. Bounded in count and time. Asserts: the process never crashes, no
 * handler throws (internal_errors 0), and a bystander keeps publishing and receiving.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { connect, engine, open, tick } from './helpers.js';

function rng(seed: number): () => number {
  return () => { seed = (seed + 0x6d2b79f5) | 0; let t = seed; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}

const SEED = 0x5eed12;
const COUNT = 600;

function samples(v: 4 | 5): Packet[] {
  const props5 = v === 5;
  return [
    { cmd: 'publish', topic: 'f/a', payload: Buffer.from('x'), qos: 0, retain: false, dup: false },
    { cmd: 'publish', topic: 'f/b', payload: Buffer.alloc(40, 7), qos: 1, messageId: 3, retain: true, dup: false, ...(props5 ? { properties: { topicAlias: 1, messageExpiryInterval: 9, userProperties: { a: 'b' }, correlationData: Buffer.from('c') } } : {}) },
    { cmd: 'publish', topic: 'f/c', payload: Buffer.from('y'), qos: 2, messageId: 4, retain: false, dup: false },
    { cmd: 'pubrel', messageId: 4 }, { cmd: 'puback', messageId: 1 }, { cmd: 'pubrec', messageId: 2 }, { cmd: 'pubcomp', messageId: 2 },
    { cmd: 'subscribe', messageId: 5, subscriptions: [{ topic: 'f/#', qos: 2 }, { topic: '$share/g/f/+', qos: 1 }], ...(props5 ? { properties: { subscriptionIdentifier: 8 } } : {}) },
    { cmd: 'unsubscribe', messageId: 6, unsubscriptions: ['f/#', 'nope'] },
    { cmd: 'pingreq' },
    { cmd: 'disconnect', ...(props5 ? { reasonCode: 4, properties: { sessionExpiryInterval: 0 } } : {}) },
    ...(props5 ? [{ cmd: 'auth', reasonCode: 0x19, properties: { authenticationMethod: 'm' } } as Packet] : []),
  ] as Packet[];
}

function mutate(b: Buffer, r: () => number): Buffer {
  const out = Buffer.from(b);
  const kind = r();
  if (kind < 0.5) { const n = 1 + Math.floor(r() * 3); for (let i = 0; i < n; i++) out[Math.floor(r() * out.length)] = Math.floor(r() * 256); return out; }
  if (kind < 0.7) return out.subarray(0, Math.floor(r() * out.length));
  if (kind < 0.85) return Buffer.concat([out, Buffer.from(Array.from({ length: 1 + Math.floor(r() * 8) }, () => Math.floor(r() * 256)))]);
  return Buffer.from(Array.from({ length: 1 + Math.floor(r() * 30) }, () => Math.floor(r() * 256)));
}

test(`fuzz (seed ${SEED}, ${COUNT} connections): no crash, no handler error, a bystander still served`, async () => {
  const e = engine({ limits: { maxPacketBytes: 4096 } });
  const bystander = await connect(e, { version: 5, clientId: 'bystander' });
  await bystander.subscribe('by/#', 1);
  const r = rng(SEED);
  const started = Date.now();
  let n = 0;
  for (; n < COUNT && Date.now() - started < 20_000; n++) {
    const v = r() < 0.5 ? 4 : 5;
    const c = open(e, v);
    const connectPacket = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: v, clientId: `fz${n % 40}`, clean: r() < 0.5, keepalive: 0, ...(v === 5 ? { properties: { sessionExpiryInterval: Math.floor(r() * 3), topicAliasMaximum: 2, receiveMaximum: 3 } } : {}), ...(r() < 0.3 ? { will: { topic: 'f/will', payload: Buffer.from('w'), qos: 1, retain: false } } : {}) } as Packet, { protocolVersion: v });
    const chunks: Buffer[] = [r() < 0.15 ? mutate(connectPacket, r) : connectPacket];
    const pool = samples(v);
    const k = 1 + Math.floor(r() * 6);
    for (let i = 0; i < k; i++) {
      const p = mqttPacket.generate(pool[Math.floor(r() * pool.length)]!, { protocolVersion: v });
      chunks.push(r() < 0.6 ? mutate(p, r) : p);
    }
    const all = Buffer.concat(chunks);
    // split at random points so the framer sees every kind of boundary
    for (let off = 0; off < all.length;) { const step = 1 + Math.floor(r() * 64); c.raw(all.subarray(off, off + step)); off += step; }
    if (n % 20 === 19) {
      await tick(5);
      bystander.publish('by/alive', String(n), { qos: 1, messageId: 1 + (n % 1000) });
      const m = await bystander.next('publish', 5000);
      assert.equal(m.payload.toString(), String(n));
      bystander.send({ cmd: 'puback', messageId: m.messageId! });
      await bystander.next('puback', 5000);
      for (const x of e.connections) if (x.session?.clientId !== 'bystander') x.terminate(undefined, 'server');
    }
  }
  await tick(50);
  assert.ok(n >= 100, `ran ${n}`);
  assert.equal(e.counters.internal_errors, 0, 'no handler threw');
  assert.ok((e.counters.malformed ?? 0) > 0, 'the fuzz reached the malformed paths');
  assert.equal(bystander.closed, false);
  await e.publish({ topic: 'by/end', payload: 'end' });
  assert.equal((await bystander.next('publish')).payload.toString(), 'end');
});
