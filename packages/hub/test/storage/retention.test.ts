// The retention job against both backends: chunks, what is kept, and (PostgreSQL)
// whole days dropped as partitions while the day the cutoff falls in is trimmed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startRetention } from '../../src/storage/index.js';
import type { Point, Store } from '../../src/storage/types.js';
import type { StoreHarness } from './contract.js';
import { pgHarness } from './pg-harness.js';
import { sqliteHarness } from './sqlite-harness.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2025, 10, 25, 9); // 09:00: the cutoff falls inside a day
const everyDay = (device: string, days: number): Point[] =>
  Array.from({ length: days * 4 }, (_, i) => ({ device, metric: 'm', ts: NOW - days * DAY + i * (DAY / 4), value: i }));

// pgHarness fails with what to do when no PostgreSQL answers (never skips).
const backends: [string, () => Promise<StoreHarness>][] = [['sqlite', sqliteHarness], ['postgres', pgHarness]];

for (const [name, make] of backends) {
  describe(`startRetention: ${name}`, () => {
    let h: StoreHarness;
    let store: Store;
    before(async () => {
      h = await make();
      store = await h.open();
    });
    after(async () => {
      await store.close();
      await h.destroy();
    });

    it('prunes raw points past rawDays and rollups past rollupDays, in chunks', async () => {
      await store.append([...everyDay('a', 60), ...everyDay('b', 10)]);
      const calls: number[] = [];
      const spy = new Proxy(store, {
        get: (t, k) => (k === 'prune' ? (b: number, m: number) => { calls.push(m); return t.prune(b, m); } : Reflect.get(t, k)),
      });
      const job = startRetention(spy, { rawDays: 30, rollupDays: 45, chunkRows: 16, pauseMs: 0, intervalMs: 3_600_000, now: () => NOW });
      const r = await job.runOnce();
      await job.stop();
      assert.equal(r.points, 30 * 4); // a: 30 days × 4; b is young
      assert.equal(r.rollups, 15 * 4); // a: days 60..46 ago, one rollup hour per point
      assert.ok(calls.length >= 2 && calls.every((m) => m === 16), `chunks: ${calls.length}`);
      const left = await store.raw({ device: 'a', metric: 'm', from: 0, to: NOW, limit: 1000 });
      assert.equal(left.length, 30 * 4);
      assert.ok(left.every((p) => p.ts >= NOW - 30 * DAY));
      assert.equal(await store.count({ device: 'b', metric: 'm', from: 0, to: NOW }), 40);
      // Bucketed history still covers days 45..30 ago from rollups, after the raw points are gone.
      const old = await store.buckets({ device: 'a', metric: 'm', from: NOW - 45 * DAY, to: NOW - 30 * DAY - 1, limit: 100, bucketMs: DAY });
      assert.equal(old.reduce((n, b) => n + b.count, 0), 15 * 4);
    });

    it('keeps everything with rawDays 0 and rollupDays 0, and stops cleanly', async () => {
      await store.append(everyDay('c', 1000));
      const job = startRetention(store, { rawDays: 0, rollupDays: 0, now: () => NOW });
      assert.deepEqual(await job.runOnce(), { points: 0, rollups: 0 });
      await job.stop();
      assert.equal(await store.count({ device: 'c', metric: 'm', from: 0, to: NOW }), 4000);
    });
  });
}
