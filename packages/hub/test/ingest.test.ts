import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBus } from '../src/bus/index.js';
import type { Bus } from '../src/bus/types.js';
import { openStore } from '../src/storage/index.js';
import type { Point, Store } from '../src/storage/types.js';
import { IngestQueue, startIngest, telemetryPoints } from '../src/services/ingest.js';

const NOW = Date.UTC(2025, 10, 25, 12);
const q = (device: string, metric: string) => ({ device, metric, from: 0, to: NOW + 86_400_000 });
const pts = (n: number, device = 'd', from = NOW): Point[] => Array.from({ length: n }, (_, i) => ({ device, metric: 'm', ts: from + i, value: i }));

/** A real store whose appends can be held or made to fail: the failure modes ingest must survive. */
class FlakyStore {
  sizes: number[] = [];
  failures = 0;
  gate: Promise<void> | undefined;
  constructor(readonly real: Store) {}
  asStore(): Store {
    return new Proxy(this.real, {
      get: (t, k) => (k === 'append' ? (p: Point[]) => this.append(p) : Reflect.get(t, k)),
    });
  }
  private async append(p: Point[]): Promise<void> {
    await this.gate;
    if (this.failures > 0) { this.failures--; throw new Error('disk on fire'); }
    this.sizes.push(p.length);
    await this.real.append(p);
  }
}

describe('telemetryPoints', () => {
  it('turns numeric fields into points at the payload ts and skips the rest', () => {
    const got = telemetryPoints('d1', '{"lux":412.5,"white":530,"ts":1764072000000,"label":"x","ok":true,"n":null,"arr":[1]}', NOW, NOW);
    assert.deepEqual(got, [{ device: 'd1', metric: 'lux', ts: 1764072000000, value: 412.5 }, { device: 'd1', metric: 'white', ts: 1764072000000, value: 530 }]);
  });

  it('falls back to the bus time when ts is absent, not a number, too old or too far ahead', () => {
    for (const ts of [undefined, '"2025-01-01"', NOW - 400 * 86_400_000, NOW + 120_000]) {
      const body = ts === undefined ? '{"v":1}' : `{"v":1,"ts":${ts}}`;
      assert.equal(telemetryPoints('d', body, NOW - 5, NOW)![0]!.ts, NOW - 5, body);
    }
    assert.equal(telemetryPoints('d', `{"v":1,"ts":${NOW + 30_000}}`, NOW, NOW)![0]!.ts, NOW + 30_000);
  });

  it('rejects payloads that are not a JSON object, and metric names with control characters', () => {
    for (const bad of ['', 'nope', '[1,2]', '42', 'null', '"s"']) assert.equal(telemetryPoints('d', bad, NOW, NOW), undefined, bad);
    assert.deepEqual(telemetryPoints('d', '{"a\\u0000b":1,"ok":2}', NOW, NOW)!.map((p) => p.metric), ['ok']);
  });
});

describe('IngestQueue', () => {
  let dir: string;
  let real: Store;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fl-ingest-'));
    real = await openStore({ dataDir: dir });
  });
  after(async () => {
    await real.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('group-commits messages arriving within batchMs into one batch', async () => {
    const f = new FlakyStore(real);
    const iq = new IngestQueue(f.asStore(), { batchMs: 30 });
    for (let i = 0; i < 5; i++) iq.push(pts(3, 'g1', NOW + i * 10));
    assert.deepEqual(f.sizes, []); // nothing written synchronously
    await new Promise((r) => setTimeout(r, 80));
    assert.deepEqual(f.sizes, [15]);
    assert.equal(await real.count(q('g1', 'm')), 15);
    assert.deepEqual(iq.stats(), { queued: 0, written: 15, dropped: 0, notStored: 0, rejected: 0, refused: 0, overCap: 0, batches: 1, retries: 0, lastError: null });
  });

  it('never writes more than batchMaxPoints per batch, splitting messages, in order', async () => {
    const f = new FlakyStore(real);
    const iq = new IngestQueue(f.asStore(), { batchMs: 1000, batchMaxPoints: 10 });
    for (let i = 0; i < 7; i++) iq.push(pts(5, 'g2', NOW + i * 5));
    await iq.flush();
    assert.ok(f.sizes.every((n) => n <= 10), String(f.sizes));
    assert.equal(f.sizes.reduce((a, b) => a + b, 0), 35);
    assert.deepEqual((await real.raw({ ...q('g2', 'm'), limit: 100 })).map((p) => p.ts), pts(35, 'g2').map((p) => p.ts));
  });

  it('drops whole messages when the queue is full, counts them, and never exceeds the bound', async () => {
    const f = new FlakyStore(real);
    let open!: () => void;
    f.gate = new Promise((r) => { open = r; });
    const iq = new IngestQueue(f.asStore(), { batchMs: 1, batchMaxPoints: 40, queueMaxPoints: 100 });
    const accepted = Array.from({ length: 15 }, (_, i) => iq.push(pts(10, 'g3', NOW + i * 10)));
    assert.deepEqual(accepted, [...Array(10).fill(true), ...Array(5).fill(false)]); // oldest kept, newest dropped
    assert.equal(iq.stats().queued, 100);
    assert.equal(iq.stats().dropped, 50);
    open();
    await iq.flush();
    assert.equal(await real.count(q('g3', 'm')), 100);
    assert.deepEqual([iq.stats().written, iq.stats().queued], [100, 0]);
  });

  it('retries a failed write with backoff until it succeeds, keeping count', async () => {
    const f = new FlakyStore(real);
    f.failures = 3;
    const errors: unknown[] = [];
    const iq = new IngestQueue(f.asStore(), { batchMs: 1, retryBaseMs: 5, onError: (e) => errors.push(e) });
    iq.push(pts(20, 'g4'));
    await iq.flush();
    const s = iq.stats();
    assert.deepEqual([s.written, s.retries, s.dropped, s.lastError], [20, 3, 0, 'disk on fire']);
    assert.equal(errors.length, 3);
    assert.equal(await real.count(q('g4', 'm')), 20);
  });

  it('stop() gives up after stopTimeoutMs when the store keeps failing, counting the loss', async () => {
    const f = new FlakyStore(real);
    f.failures = Infinity;
    const iq = new IngestQueue(f.asStore(), { batchMs: 1, retryBaseMs: 5, stopTimeoutMs: 100 });
    iq.push(pts(7, 'g5'));
    const t = Date.now();
    await iq.stop();
    assert.ok(Date.now() - t < 1000);
    const s = iq.stats();
    assert.deepEqual([s.queued, s.written, s.dropped], [0, 0, 7]);
    assert.match(s.lastError!, /stopped with 7 points unwritten: disk on fire/);
    assert.equal(iq.push(pts(1, 'g5')), false); // closed
  });
});

describe('startIngest over the embedded bus', () => {
  let dir: string;
  let store: Store;
  let bus: Bus;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fl-ingest-bus-'));
    store = await openStore({ url: `sqlite:${join(dir, 'x.db')}` });
    bus = await createBus({ kind: 'embedded' });
  });
  after(async () => {
    await bus.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores telemetry of every device, ignores other topics and bad payloads, and loses nothing on stop', async () => {
    await bus.publish('devices/old/telemetry', '{"v":1}', { retain: true }); // retained: old data, not ingested again
    const ingest = await startIngest(bus, store, { batchMs: 20, now: () => NOW });
    for (let i = 0; i < 50; i++) {
      await bus.publish('devices/a/telemetry', JSON.stringify({ lux: i, white: i * 2, ts: NOW - 1000 + i }));
      await bus.publish('devices/b.2/telemetry', JSON.stringify({ temp: 20 + i / 10, unit: 'C', ts: NOW - 1000 + i }));
    }
    await bus.publish('devices/a/status', '{"online":true}');
    await bus.publish('devices/a/meta', '{"lux":5}');
    await bus.publish('devices/a/telemetry', 'not json');
    await bus.publish('other/a/telemetry', '{"lux":1}');
    await ingest.stop();
    await bus.publish('devices/a/telemetry', '{"lux":999}'); // after stop: not subscribed any more
    const s = ingest.stats();
    assert.deepEqual([s.written, s.queued, s.dropped, s.rejected], [150, 0, 0, 1]);
    assert.ok(s.batches >= 1 && s.batches < 150, `batches=${s.batches}`); // grouped, not one write per message
    assert.deepEqual(await store.metrics('a'), ['lux', 'white']);
    assert.deepEqual(await store.metrics('b.2'), ['temp']);
    assert.deepEqual(await store.metrics('old'), []);
    const lux = await store.raw({ ...q('a', 'lux'), limit: 100 });
    assert.deepEqual(lux.map((p) => p.value), Array.from({ length: 50 }, (_, i) => i));
    assert.equal(lux[0]!.ts, NOW - 1000);
  });
});
