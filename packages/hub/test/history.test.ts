// Tests services/history.ts (parser, auto bucket, runner) on a real SQLite store; the HTTP door is in http/api.test.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/storage/index.js';
import type { Point, Store } from '../src/storage/types.js';
import { validHistoryQuery } from './helpers.js';
import { NICE_BUCKETS_MS, bucketCount, parseHistoryParams, pickBucket, runHistory } from '../src/services/history.js';

const NOW = Date.UTC(2025, 10, 25, 12);
const H = 3_600_000;
const ok = (input: Record<string, unknown>, max = 10_000) => validHistoryQuery(input, max, NOW);

describe('parseHistoryParams', () => {
  it('accepts ms, digit strings, ISO, now and relative times, with defaults', () => {
    assert.deepEqual(ok({ device: 'd1', metric: 'lux' }), { device: 'd1', metric: 'lux', from: NOW - 24 * H, to: NOW, limit: 1000 });
    assert.deepEqual(ok({ device: 'd', metric: 'm', from: '-1h', to: 'now' }), { device: 'd', metric: 'm', from: NOW - H, to: NOW, limit: 1000 });
    assert.equal(ok({ device: 'd', metric: 'm', from: 'now-30m' }).from, NOW - 30 * 60_000);
    assert.equal(ok({ device: 'd', metric: 'm', from: '2025-11-25T10:00:00Z' }).from, NOW - 2 * H);
    assert.equal(ok({ device: 'd', metric: 'm', from: String(NOW - 5), to: NOW }).from, NOW - 5);
    assert.equal(ok({ device: 'd', metric: 'm', to: NOW - H }).from, NOW - 25 * H); // from defaults relative to `to`
    assert.equal(ok({ device: 'd', metric: 'm', limit: '7' }).limit, 7);
    assert.equal(ok({ device: 'd', metric: 'm' }, 500).limit, 500);
  });

  it('parses buckets as durations or ms, `auto` or empty as none', () => {
    for (const [b, ms] of [['10s', 10_000], ['5m', 300_000], ['1h', H], ['1d', 24 * H], ['1w', 168 * H], ['250ms', 250], [60000, 60_000], ['90000', 90_000]] as const) {
      assert.equal(ok({ device: 'd', metric: 'm', bucket: b }).bucketMs, ms, String(b));
    }
    assert.equal('bucketMs' in ok({ device: 'd', metric: 'm', bucket: 'auto' }), false);
    assert.equal('bucketMs' in ok({ device: 'd', metric: 'm', bucket: '' }), false);
  });

  it('answers bad input with the right code', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ metric: 'm' }, 'MISSING_FIELD'],
      [{ device: '', metric: 'm' }, 'MISSING_FIELD'],
      [{ device: 'd' }, 'MISSING_FIELD'],
      [{ device: 42, metric: 'm' }, 'WRONG_TYPE'],
      [{ device: 'd', metric: ['m'] }, 'WRONG_TYPE'],
      [{ device: 'd', metric: 'a\nb' }, 'WRONG_TYPE'],
      [{ device: 'a/b', metric: 'm' }, 'INVALID_ID'],
      [{ device: "'; DROP TABLE points; --", metric: 'm' }, 'INVALID_ID'],
      [{ device: 'd', metric: 'm', from: 'yesterday' }, 'BAD_TIME_RANGE'],
      [{ device: 'd', metric: 'm', from: '2025-13-45' }, 'BAD_TIME_RANGE'],
      [{ device: 'd', metric: 'm', to: -5 }, 'BAD_TIME_RANGE'],
      [{ device: 'd', metric: 'm', from: NOW, to: NOW - 1 }, 'BAD_TIME_RANGE'],
      [{ device: 'd', metric: 'm', from: {} }, 'BAD_TIME_RANGE'],
      [{ device: 'd', metric: 'm', bucket: '7x' }, 'UNKNOWN_BUCKET'],
      [{ device: 'd', metric: 'm', bucket: 0 }, 'UNKNOWN_BUCKET'],
      [{ device: 'd', metric: 'm', bucket: -5 }, 'UNKNOWN_BUCKET'],
      [{ device: 'd', metric: 'm', bucket: 1.5 }, 'UNKNOWN_BUCKET'],
      [{ device: 'd', metric: 'm', limit: 20_000 }, 'LIMIT_TOO_LARGE'],
      [{ device: 'd', metric: 'm', limit: 'abc' }, 'WRONG_TYPE'],
      [{ device: 'd', metric: 'm', limit: 0 }, 'WRONG_TYPE'],
      [{ device: 'd', metric: 'm', limit: 2.5 }, 'WRONG_TYPE'],
    ];
    for (const [input, code] of cases) {
      const r = parseHistoryParams(input, 10_000, NOW);
      assert.equal(r.ok ? 'ok' : r.code, code, JSON.stringify(input));
      if (!r.ok) assert.ok(r.message.length > 0);
    }
  });
});

describe('pickBucket', () => {
  it('picks the smallest nice width that keeps the answer within limit', () => {
    assert.equal(pickBucket(NOW - H, NOW, 1000), 5000); // 3600 s / 1000 → 5 s (721 buckets; 2 s would be 1801)
    assert.equal(pickBucket(NOW - 24 * H, NOW, 1000), 2 * 60_000 * 2.5); // 5 min
    assert.equal(pickBucket(NOW - 3650 * 24 * H, NOW, 100), 6 * 7 * 24 * H); // beyond the list: 3650 d / 100 → 6 weeks (5 would give 105)
    for (const [span, limit] of [[H, 10], [7 * 24 * H, 50], [1234567, 3], [365 * 24 * H, 1]]) {
      const b = pickBucket(NOW - span!, NOW, limit!);
      assert.ok(bucketCount(NOW - span!, NOW, b) <= limit!, `${span} ${limit} → ${b}`);
    }
  });
});

describe('runHistory (SQLite)', () => {
  let dir: string;
  let store: Store;
  const pts: Point[] = Array.from({ length: 3600 }, (_, i) => ({ device: 'dev1', metric: 'lux', ts: NOW - H + i * 1000, value: i % 100 }));
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fl-history-'));
    store = await openStore({ dataDir: dir });
    await store.append(pts);
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('returns raw points when they fit in limit', async () => {
    const r = await runHistory(store, ok({ device: 'dev1', metric: 'lux', from: NOW - 10_000, to: NOW - 5_000 }));
    assert.equal(r.bucketMs, null);
    assert.ok('points' in r);
    assert.deepEqual(r.points, pts.slice(3590, 3596).map(({ ts, value }) => ({ ts, value })));
  });

  it('picks a bucket when the raw count exceeds limit, keeping every point counted', async () => {
    const r = await runHistory(store, ok({ device: 'dev1', metric: 'lux', from: NOW - 2 * H, to: NOW, limit: 100 }));
    assert.ok('buckets' in r);
    assert.ok(NICE_BUCKETS_MS.includes(r.bucketMs));
    assert.equal(r.bucketMs, 2 * 60_000 * 2.5);
    assert.ok(r.buckets.length <= 100);
    assert.equal(r.buckets.reduce((a, b) => a + b.count, 0), 3600);
  });

  it('honours an explicit bucket, and answers unknown series with an empty result', async () => {
    const r = await runHistory(store, ok({ device: 'dev1', metric: 'lux', from: NOW - H, to: NOW - 1, bucket: '30m' }));
    assert.ok('buckets' in r);
    assert.deepEqual(r.buckets.map((b) => [b.ts, b.count, b.min, b.max]), [[NOW - H, 1800, 0, 99], [NOW - H / 2, 1800, 0, 99]]);
    const e = await runHistory(store, ok({ device: 'ghost', metric: 'lux', from: NOW - H, to: NOW }));
    assert.deepEqual(e, { device: 'ghost', metric: 'lux', from: NOW - H, to: NOW, bucketMs: null, points: [] });
  });
});

describe('runHistory after retention pruned raw points (rollups remain)', () => {
  let dir: string;
  let store: Store;
  const D = 24 * H;
  const OLD = NOW - 40 * D; // hour-aligned, as NOW is
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fl-history-pruned-'));
    store = await openStore({ dataDir: dir });
    // A point every 5 min for 48 h, then raw pruned: only rollups answer for that range.
    await store.append(Array.from({ length: 576 }, (_, i) => ({ device: 'd', metric: 'm', ts: OLD + i * 300_000, value: i })));
    assert.equal(await store.prune(NOW - 30 * D), 576);
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers a range that would fit raw with hourly buckets from rollups, not an empty list', async () => {
    const r = await runHistory(store, ok({ device: 'd', metric: 'm', from: OLD, to: OLD + 10 * H - 1 }));
    assert.ok('buckets' in r, JSON.stringify(r));
    assert.equal(r.bucketMs, H);
    assert.deepEqual(r.buckets.map((b) => [b.ts, b.count]), Array.from({ length: 10 }, (_, i) => [OLD + i * H, 12]));
  });

  it('answers with hour-multiple buckets where auto would pick sub-hour ones (read from raw)', async () => {
    assert.equal(pickBucket(OLD, OLD + 2 * H - 1, 10), 30 * 60_000);
    const r = await runHistory(store, ok({ device: 'd', metric: 'm', from: OLD, to: OLD + 2 * H - 1, limit: 10 }));
    assert.ok('buckets' in r);
    assert.equal(r.bucketMs, H);
    assert.deepEqual(r.buckets.map((b) => b.count), [12, 12]);
    const wide = await runHistory(store, ok({ device: 'd', metric: 'm', from: OLD, to: OLD + 48 * H - 1, limit: 20 }));
    assert.ok('buckets' in wide);
    assert.equal(wide.bucketMs, 3 * H); // already a multiple of an hour: unchanged
    assert.equal(wide.buckets.reduce((a, b) => a + b.count, 0), 576);
  });
});
