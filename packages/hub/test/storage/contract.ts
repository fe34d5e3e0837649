/**
 * The Store contract, run against every backend (sqlite.test.ts, postgres.test.ts).
 * A harness gives each test an empty database; `open()` may be called again after
 * `close()` to reopen the same data (restart test).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Bucket, Point, Store } from '../../src/storage/types.js';

export interface StoreHarness {
  open(): Promise<Store>;
  destroy(): Promise<void>;
}

const H = 3_600_000;
const T0 = Date.UTC(2025, 10, 25, 0, 0, 0); // hour- and day-aligned

/** Expected buckets computed naively from points, the oracle for both code paths (raw and rollups). */
export function naiveBuckets(points: readonly Point[], from: number, to: number, bucketMs: number): Bucket[] {
  const by = new Map<number, Point[]>();
  for (const p of points) {
    if (p.ts < from || p.ts > to) continue;
    const b = p.ts - (p.ts % bucketMs);
    by.set(b, [...(by.get(b) ?? []), p]);
  }
  return [...by.entries()].sort((a, b) => a[0] - b[0]).map(([ts, ps]) => {
    const vs = ps.map((p) => p.value);
    const last = ps.reduce((a, b) => (b.ts > a.ts ? b : a));
    return { ts, min: Math.min(...vs), max: Math.max(...vs), avg: vs.reduce((a, b) => a + b, 0) / vs.length, count: vs.length, last: last.value };
  });
}

/** Points every `stepMs` from `from` for `n` steps, integer values so sums are exact in any order. */
function series(device: string, metric: string, from: number, n: number, stepMs: number, f = (i: number) => (i * 7) % 23): Point[] {
  return Array.from({ length: n }, (_, i) => ({ device, metric, ts: from + i * stepMs, value: f(i) }));
}

export function storeContract(name: string, makeHarness: () => Promise<StoreHarness>): void {
  const withStore = (fn: (s: Store, h: StoreHarness) => Promise<void>) => async () => {
    const h = await makeHarness();
    const s = await h.open();
    try {
      await fn(s, h);
    } finally {
      await s.close();
      await h.destroy();
    }
  };

  describe(`Store contract: ${name}`, () => {
    it('appends and reads raw points in time order, range inclusive, limit keeps the earliest', withStore(async (s) => {
      const pts = series('d1', 'lux', T0, 10, 1000);
      await s.append([...pts].reverse());
      await s.append(series('d1', 'white', T0, 10, 1000, () => 99)); // another series must not leak in
      const all = await s.raw({ device: 'd1', metric: 'lux', from: T0, to: T0 + 9000, limit: 100 });
      assert.deepEqual(all, pts.map(({ ts, value }) => ({ ts, value })));
      const mid = await s.raw({ device: 'd1', metric: 'lux', from: T0 + 2000, to: T0 + 4000, limit: 100 });
      assert.deepEqual(mid.map((p) => p.ts), [T0 + 2000, T0 + 3000, T0 + 4000]);
      const lim = await s.raw({ device: 'd1', metric: 'lux', from: T0, to: T0 + 9000, limit: 3 });
      assert.deepEqual(lim.map((p) => p.ts), [T0, T0 + 1000, T0 + 2000]);
      assert.equal(typeof all[0]!.ts, 'number');
    }));

    it('ignores a point already stored (first write wins) and does not count it twice in rollups', withStore(async (s) => {
      await s.append([{ device: 'd', metric: 'm', ts: T0 + 5, value: 1 }]);
      await s.append([{ device: 'd', metric: 'm', ts: T0 + 5, value: 2 }, { device: 'd', metric: 'm', ts: T0 + 5, value: 3 }]);
      assert.deepEqual(await s.raw({ device: 'd', metric: 'm', from: T0, to: T0 + H, limit: 10 }), [{ ts: T0 + 5, value: 1 }]);
      const [b] = await s.buckets({ device: 'd', metric: 'm', from: T0, to: T0 + H - 1, limit: 10, bucketMs: H });
      assert.deepEqual(b, { ts: T0, min: 1, max: 1, avg: 1, count: 1, last: 1 });
    }));

    it('keeps the first of duplicates inside one batch, whatever order the store inserts in', withStore(async (s) => {
      await s.append([{ device: 'd', metric: 'b', ts: T0 + 9, value: 1 }, { device: 'd', metric: 'a', ts: T0 + 5, value: 7 },
        { device: 'd', metric: 'b', ts: T0 + 1, value: 2 }, { device: 'd', metric: 'a', ts: T0 + 5, value: 8 }]);
      assert.deepEqual(await s.raw({ device: 'd', metric: 'a', from: T0, to: T0 + H, limit: 10 }), [{ ts: T0 + 5, value: 7 }]);
      assert.deepEqual(await s.raw({ device: 'd', metric: 'b', from: T0, to: T0 + H, limit: 10 }), [{ ts: T0 + 1, value: 2 }, { ts: T0 + 9, value: 1 }]);
      const [b] = await s.buckets({ device: 'd', metric: 'a', from: T0, to: T0 + H - 1, limit: 10, bucketMs: H });
      assert.deepEqual(b, { ts: T0, min: 7, max: 7, avg: 7, count: 1, last: 7 });
    }));

    it('takes concurrent batches that create the same new series and repeat points', withStore(async (s) => {
      const batch = (k: number) => Array.from({ length: 300 }, (_, i) => ({ device: `c${i % 3}`, metric: `m${i % 5}`, ts: T0 + (i + k * 100) * 1000, value: i }));
      await Promise.all(Array.from({ length: 12 }, (_, k) => s.append(batch(k % 6)))); // every batch twice
      let total = 0;
      for (let d = 0; d < 3; d++) for (let m = 0; m < 5; m++) total += await s.count({ device: `c${d}`, metric: `m${m}`, from: 0, to: T0 + 10 * H });
      const distinct = new Set(Array.from({ length: 6 }, (_, k) => batch(k).map((p) => `${p.device}/${p.metric}/${p.ts}`)).flat());
      assert.equal(total, distinct.size);
      assert.deepEqual(await s.metrics('c0'), ['m0', 'm1', 'm2', 'm3', 'm4']);
    }));

    it('rejects a batch with an invalid point with RangeError and writes nothing of it', withStore(async (s) => {
      const good = { device: 'd', metric: 'm', ts: T0, value: 1 };
      for (const bad of [{ value: NaN }, { value: Infinity }, { ts: -1 }, { ts: 1.5 }, { metric: '' }, { device: 'a\u0000b' }]) {
        await assert.rejects(s.append([good, { ...good, ts: T0 + 1, ...bad }]), RangeError, JSON.stringify(bad));
      }
      assert.equal(await s.count({ device: 'd', metric: 'm', from: 0, to: T0 + H }), 0);
    }));

    it('aggregates sub-hour buckets aligned to the epoch, empty buckets absent', withStore(async (s) => {
      // 10 s apart from T0+3s: buckets of 60 s start at multiples of 60 s, not at `from`.
      const pts = series('d', 'm', T0 + 3000, 30, 10_000).filter((_, i) => i < 12 || i > 17);
      await s.append(pts);
      const got = await s.buckets({ device: 'd', metric: 'm', from: T0 + 3000, to: T0 + 400_000, limit: 100, bucketMs: 60_000 });
      assert.deepEqual(got, naiveBuckets(pts, T0 + 3000, T0 + 400_000, 60_000));
      assert.ok(got.every((b) => b.ts % 60_000 === 0));
      assert.deepEqual(got.map((b) => (b.ts - T0) / 60_000), [0, 1, 3, 4]); // minute 2 (points 12-17) is empty: absent
      assert.deepEqual(got[0], { ts: T0, min: 0, max: 21, avg: (0 + 7 + 14 + 21 + 5 + 12) / 6, count: 6, last: 12 });
    }));

    it('answers hour-multiple buckets from rollups plus raw edges, exactly as from raw', withStore(async (s) => {
      const pts = series('d', 'm', T0 - 2 * H, 600, 47_000); // ~7.8 h, hour boundaries crossed mid-stream
      await s.append(pts.slice(0, 300));
      await s.append(pts.slice(300)); // rollup rows updated across batches
      for (const [from, to, b] of [[T0 - 2 * H + 1234, T0 + 5 * H + 999, H], [T0 - H, T0 + 3 * H - 1, H], [T0 - 2 * H, T0 + 6 * H, 2 * H],
        [T0 - 24 * H, T0 + 24 * H, 24 * H], [T0 + 10, T0 + 20 * 60_000, H]] as const) {
        const got = await s.buckets({ device: 'd', metric: 'm', from, to, limit: 1000, bucketMs: b });
        assert.deepEqual(got, naiveBuckets(pts, from, to, b), `from=${from - T0} to=${to - T0} bucket=${b}`);
      }
      const lim = await s.buckets({ device: 'd', metric: 'm', from: T0 - 2 * H, to: T0 + 8 * H, limit: 3, bucketMs: H });
      assert.deepEqual(lim.map((b) => b.ts), [T0 - 2 * H, T0 - H, T0]);
    }));

    it('counts points in a range (rollups for whole hours, raw at the edges)', withStore(async (s) => {
      const pts = series('d', 'm', T0 - H / 2, 400, 30_000);
      await s.append(pts);
      for (const [from, to] of [[T0 - H, T0 + 4 * H], [T0 + 1, T0 + 2 * H + 7], [T0 + 10_000, T0 + 20_000], [T0 + 60_000, T0 + 60_000]]) {
        assert.equal(await s.count({ device: 'd', metric: 'm', from: from!, to: to! }), pts.filter((p) => p.ts >= from! && p.ts <= to!).length);
      }
    }));

    it('streams raw points in order, in chunks of at most chunkSize', withStore(async (s) => {
      const pts = series('d', 'm', T0, 25, 1000);
      await s.append(pts);
      const chunks: number[][] = [];
      for await (const c of s.stream({ device: 'd', metric: 'm', from: T0, to: T0 + 24_000 }, { chunkSize: 10 })) chunks.push(c.map((p) => p.ts));
      assert.deepEqual(chunks.map((c) => c.length), [10, 10, 5]);
      assert.deepEqual(chunks.flat(), pts.map((p) => p.ts));
      const part: number[] = [];
      for await (const c of s.stream({ device: 'd', metric: 'm', from: T0 + 5000, to: T0 + 7000 })) part.push(...c.map((p) => p.ts));
      assert.deepEqual(part, [T0 + 5000, T0 + 6000, T0 + 7000]);
    }));

    it('returns empty results for an unknown device or metric', withStore(async (s) => {
      await s.append(series('d', 'm', T0, 5, 1000));
      for (const [device, metric] of [['nope', 'm'], ['d', 'nope'], ['d', '%'], ['%', 'm']]) {
        const q = { device: device!, metric: metric!, from: 0, to: T0 + H };
        assert.deepEqual(await s.raw({ ...q, limit: 10 }), []);
        assert.deepEqual(await s.buckets({ ...q, limit: 10, bucketMs: H }), []);
        assert.equal(await s.count(q), 0);
        for await (const _c of s.stream(q)) assert.fail('stream yielded for an unknown series');
      }
      assert.deepEqual(await s.metrics('nope'), []);
      assert.equal(await s.device('nope'), undefined);
    }));

    it('lists metrics of a device, sorted', withStore(async (s) => {
      await s.append([{ device: 'd', metric: 'white', ts: T0, value: 1 }, { device: 'd', metric: 'lux', ts: T0, value: 2 },
        { device: 'e', metric: 'temp', ts: T0, value: 3 }]);
      assert.deepEqual(await s.metrics('d'), ['lux', 'white']);
      assert.deepEqual(await s.metrics('e'), ['temp']);
    }));

    it('keeps hostile device and metric names as opaque data', withStore(async (s) => {
      const names = [`'; DROP TABLE points; --`, `"quoted" 'single' \\back`, 'température 温度 🌡️', 'a%_*?', `x'); DELETE FROM series; --`];
      const pts = names.flatMap((n, i) => [{ device: n, metric: n, ts: T0 + i, value: i }, { device: 'plain', metric: n, ts: T0 + i, value: i }]);
      await s.append(pts);
      for (const [i, n] of names.entries()) {
        assert.deepEqual(await s.raw({ device: n, metric: n, from: 0, to: T0 + H, limit: 10 }), [{ ts: T0 + i, value: i }]);
        assert.deepEqual(await s.metrics(n), [n]);
      }
      assert.deepEqual(await s.metrics('plain'), [...names].sort());
      await s.upsertDevice({ id: names[0]!, firstSeen: 1, lastSeen: 2, online: true, last: { [names[1]!]: { value: names[2], ts: 2 } }, meta: { n: names[4] } });
      assert.deepEqual((await s.device(names[0]!))?.last, { [names[1]!]: { value: names[2], ts: 2 } });
    }));

    it('upserts, lists and gets device records; firstSeen keeps the earliest', withStore(async (s) => {
      await s.upsertDevice({ id: 'b', firstSeen: 100, lastSeen: 200, online: true, last: { lux: { value: 4.5, ts: 200 } }, meta: { model: 'x' } });
      await s.upsertDevice({ id: 'a', firstSeen: 50, lastSeen: 60, online: false, last: {}, meta: null });
      await s.upsertDevice({ id: 'b', firstSeen: 300, lastSeen: 400, online: false, last: { note: { value: 'hi\u0000', ts: 400 } }, meta: { model: 'y', fw: [1, 2] } });
      assert.deepEqual(await s.device('b'), { id: 'b', firstSeen: 100, lastSeen: 400, online: false, last: { note: { value: 'hi\u0000', ts: 400 } }, meta: { model: 'y', fw: [1, 2] } });
      assert.deepEqual((await s.devices()).map((d) => [d.id, d.online, d.meta]), [['a', false, null], ['b', false, { model: 'y', fw: [1, 2] }]]);
    }));

    it('prunes raw points before a time, in chunks; bucketed history still answers from rollups', withStore(async (s) => {
      const pts = [...series('d', 'm', T0, 120, 60_000), ...series('e', 'm', T0, 120, 60_000)]; // 2 h each
      await s.append(pts);
      assert.equal(await s.prune(T0 + H, 25), 25);
      let total = 25;
      for (let n = -1; n !== 0; total += n) n = await s.prune(T0 + H, 25);
      assert.equal(total, 120);
      assert.equal(await s.prune(T0 + H), 0);
      const left = await s.raw({ device: 'd', metric: 'm', from: 0, to: T0 + 3 * H, limit: 1000 });
      assert.equal(left.length, 60);
      assert.ok(left.every((p) => p.ts >= T0 + H));
      const b = await s.buckets({ device: 'd', metric: 'm', from: T0, to: T0 + 2 * H - 1, limit: 10, bucketMs: H });
      assert.deepEqual(b, naiveBuckets(pts.filter((p) => p.device === 'd'), T0, T0 + 2 * H - 1, H));
      assert.equal(await s.pruneRollups(T0 + H), 2); // hour T0 of d and of e
      assert.deepEqual((await s.buckets({ device: 'd', metric: 'm', from: T0, to: T0 + 2 * H - 1, limit: 10, bucketMs: H })).map((x) => x.ts), [T0 + H]);
    }));

    it('keeps points, rollups and devices across close and reopen', withStore(async (s, h) => {
      const pts = series('d', 'm', T0, 100, 90_000);
      await s.append(pts);
      await s.upsertDevice({ id: 'd', firstSeen: 1, lastSeen: 2, online: true, last: {}, meta: { a: 1 } });
      await s.close();
      const s2 = await h.open();
      try {
        assert.equal(await s2.count({ device: 'd', metric: 'm', from: 0, to: T0 + 10 * H }), 100);
        assert.deepEqual(await s2.buckets({ device: 'd', metric: 'm', from: T0, to: T0 + 3 * H - 1, limit: 10, bucketMs: H }), naiveBuckets(pts, T0, T0 + 3 * H - 1, H));
        assert.deepEqual((await s2.device('d'))?.meta, { a: 1 });
        await s2.append([{ device: 'd', metric: 'm2', ts: T0, value: 1 }]); // new series after reopen
        assert.deepEqual(await s2.metrics('d'), ['m', 'm2']);
      } finally {
        await s2.close();
      }
    }));

    it('handles concurrent appends of many series without losing points', withStore(async (s) => {
      await Promise.all(Array.from({ length: 8 }, (_, i) => s.append(series(`dev${i % 3}`, `m${i}`, T0, 200, 1000))));
      let total = 0;
      for (let i = 0; i < 8; i++) total += await s.count({ device: `dev${i % 3}`, metric: `m${i}`, from: 0, to: T0 + H });
      assert.equal(total, 1600);
    }));
  });
}
