import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import type { Packet } from 'mqtt-packet';
import { connect, engine, tick, TestClient } from './helpers.js';

/** The engine's end of a connection whose peer reads only when told to: writes pile up in the stream. */
class SlowEnd extends Duplex {
  held: [Buffer, () => void][] = [];
  peer!: Duplex;
  override _read(): void {}
  override _write(chunk: Buffer, _e: BufferEncoding, cb: () => void): void { this.held.push([chunk, cb]); }
  release(): void { const h = this.held; this.held = []; for (const [b, cb] of h) { this.peer.push(b); cb(); } }
}

test('a subscriber that does not read: messages queue past maxWriteBufferBytes, QoS 0 over the queue bound is dropped and counted, the rest arrives in order', async () => {
  const e = engine({ limits: { maxWriteBufferBytes: 2000, maxQueuedPerSession: 10 } });
  const slow = new SlowEnd({ highWaterMark: 1000 });
  const peer = new Duplex({ read() {}, write(chunk, _e, cb) { slow.push(chunk); cb(); } });
  slow.peer = peer;
  e.handle(slow, { remote: 'slow', transport: 'memory' });
  const c = new TestClient(peer, 4);
  c.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'slow', clean: true, keepalive: 0 } as Packet);
  await tick();
  slow.release();
  await c.next('connack');
  c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'bp', qos: 0 }] });
  await tick();
  slow.release();
  await c.next('suback');
  const fast = await connect(e);
  await fast.subscribe('bp', 0);
  const N = 100;
  // one publish per event-loop turn, so corking (per turn) does not make the fast subscriber's stream look full
  for (let i = 0; i < N; i++) { await e.publish({ topic: 'bp', payload: Buffer.from(String(i).padStart(200, '.')) }); await new Promise(setImmediate); }
  await tick();
  const dropped = e.counters.dropped_qos0!;
  assert.ok(dropped > 0, 'some were dropped');
  const s = e.sessions.get('slow')!;
  assert.equal(s.queue.length, 10, 'the queue is at its bound');
  for (let k = 0; k < 20 && (slow.held.length > 0 || s.queue.length > 0); k++) { slow.release(); await tick(10); }
  const got: number[] = [];
  let p: Packet | undefined;
  while ((p = c.received.shift())) if (p.cmd === 'publish') got.push(Number(p.payload.toString().replace(/\./g, '')));
  assert.equal(got.length + dropped, N);
  assert.deepEqual(got, [...got].sort((a, b) => a - b), 'in order');
  let fastCount = 0;
  while ((p = fast.received.shift())) if (p.cmd === 'publish') fastCount++;
  assert.equal(fastCount, N, 'the other subscriber lost nothing');
});
