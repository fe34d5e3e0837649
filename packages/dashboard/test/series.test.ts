/** The seam contract of the charts: history then live, no gap, no duplicate; and the window/query plan. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Series } from '../src/lib/series.js';
import { loadPlan, niceBucket, resolveWindow } from '../src/lib/ranges.js';
import { parseParams } from '../src/lib/params.js';

test('raw series: live points overlapping history are counted once; a backfill inserts in order', () => {
  const s = new Series(null);
  for (const ts of [1000, 2000, 3000]) s.add(ts, ts / 1000);
  assert.equal(s.add(3000, 3), false, 'same ts as the last history point');
  assert.equal(s.add(4000, 4), true);
  assert.equal(s.add(2500, 2.5), true, 'a backfilled point goes between');
  assert.equal(s.add(2500, 2.5), false);
  assert.deepEqual(s.x, [1000, 2000, 2500, 3000, 4000]);
  s.trimBefore(2500);
  assert.deepEqual(s.x, [2500, 3000, 4000]);
});

test('bucketed series: closed buckets from the hub, the open one aggregated here from raw and live points', () => {
  const s = new Series(10_000);
  s.loadBuckets([{ ts: 0, min: 1, max: 3, avg: 2, count: 3, last: 3 }], 9_999);
  assert.equal(s.add(9_000, 100), false, 'inside a sealed bucket: already counted');
  s.add(10_000, 4);
  s.add(15_000, 8);
  assert.equal(s.add(15_000, 8), false, 'duplicate at the seam');
  s.add(21_000, 1);
  assert.deepEqual(s.x, [0, 10_000, 20_000]);
  assert.deepEqual(s.y, [2, 6, 1]);
  assert.deepEqual([s.lo[1], s.hi[1]], [4, 8]);
});

test('windows: live is raw, presets are bucketed with at most 400 buckets, the plan seals before the open bucket', () => {
  const now = 1_800_000_123_456;
  assert.equal(resolveWindow('live', {}, now).bucketMs, null);
  assert.equal(resolveWindow('1h', {}, now).bucketMs, 10_000);
  assert.ok(7 * 86_400_000 / niceBucket(7 * 86_400_000) <= 400);
  const w = resolveWindow('1h', {}, now);
  const plan = loadPlan('sim-1', 'lux', w, now);
  assert.equal(plan.sealedTo, Math.floor(now / 10_000) * 10_000 - 1);
  assert.equal(plan.buckets?.to, plan.sealedTo);
  assert.equal(plan.raw?.from, plan.sealedTo + 1);
  assert.equal(plan.raw?.to, now);
  const past = resolveWindow('custom', { from: now - 86_400_000, to: now - 3_600_000 }, now);
  assert.equal(past.to, now - 3_600_000);
  assert.equal(loadPlan('sim-1', 'lux', past, now).raw, undefined, 'a window in the past is static');
});

test('command params: typed from the spec, checked against min/max/enum before sending', () => {
  const specs = { ms: { type: 'integer' as const, min: 100, max: 1000 }, gain: { type: 'string' as const, enum: ['1', 'auto'] }, on: { type: 'boolean' as const } };
  assert.deepEqual(parseParams(specs, { ms: '250', gain: 'auto', on: 'true' }), { ok: true, params: { ms: 250, gain: 'auto', on: true } });
  const bad = parseParams(specs, { ms: '2.5', gain: 'x', on: 'false' });
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.deepEqual(Object.keys(bad.problems).sort(), ['gain', 'ms']);
});
