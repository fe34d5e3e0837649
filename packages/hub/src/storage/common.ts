/**
 * Pieces both backends share, so they agree on what they accept and how they
 * merge rollups with raw edges. Backend-neutral: no SQL here.
 */
import type { Bucket, DeviceRecord, HistoryQuery, Point, RawPoint } from './types.js';
import { ROLLUP_MS } from './types.js';

export const DEFAULT_CHUNK = 5_000;

/** Raw points of a range in time order, `chunk` rows per query (keyset paging on ts): CSV export never holds the range in memory. */
export async function* streamRaw(raw: (q: HistoryQuery) => Promise<RawPoint[]>, q: Omit<HistoryQuery, 'limit' | 'bucketMs'>, chunkSize = DEFAULT_CHUNK): AsyncIterable<RawPoint[]> {
  const chunk = Math.max(1, chunkSize);
  let from = q.from;
  while (from <= q.to) {
    const rows = await raw({ ...q, from, limit: chunk });
    if (rows.length > 0) yield rows;
    if (rows.length < chunk) return;
    from = rows[rows.length - 1]!.ts + 1;
  }
}

function badName(s: unknown): boolean {
  return typeof s !== 'string' || s.length === 0 || s.includes('\u0000');
}

/** The checks `Store.append` promises; throws before any SQL runs. */
export function checkPoints(points: readonly Point[]): void {
  for (const p of points) {
    if (badName(p.device) || badName(p.metric)) throw new RangeError(`invalid device/metric name: ${JSON.stringify([p.device, p.metric])}`);
    if (!Number.isSafeInteger(p.ts) || p.ts < 0) throw new RangeError(`invalid ts ${p.ts} for ${p.device}/${p.metric}`);
    if (typeof p.value !== 'number' || !Number.isFinite(p.value)) throw new RangeError(`invalid value ${p.value} for ${p.device}/${p.metric}`);
  }
}

export function seriesKey(device: string, metric: string): string {
  // NUL cannot occur in names (checkPoints), so it is a safe separator.
  return `${device}\u0000${metric}`;
}

export interface RollupRow {
  seriesId: number;
  hour: number;
  min: number;
  max: number;
  sum: number;
  count: number;
  last: number;
  lastTs: number;
}

/** Aggregate inserted points per (series, hour): one upsert per group instead of per point. */
export function rollupsOf(rows: Iterable<{ seriesId: number; ts: number; value: number }>): RollupRow[] {
  const groups = new Map<string, RollupRow>();
  for (const r of rows) {
    const hour = r.ts - (r.ts % ROLLUP_MS);
    const key = `${r.seriesId}:${hour}`;
    const g = groups.get(key);
    if (!g) {
      groups.set(key, { seriesId: r.seriesId, hour, min: r.value, max: r.value, sum: r.value, count: 1, last: r.value, lastTs: r.ts });
      continue;
    }
    if (r.value < g.min) g.min = r.value;
    if (r.value > g.max) g.max = r.value;
    g.sum += r.value;
    g.count++;
    if (r.ts >= g.lastTs) { g.last = r.value; g.lastTs = r.ts; }
  }
  return [...groups.values()];
}

/**
 * How a bucketed range splits: whole rollup hours [hourFrom, hourTo) and raw
 * edges. `hourFrom === hourTo` means "raw only" (bucket not a multiple of an
 * hour, or the range holds no whole hour).
 */
export function splitRange(from: number, to: number, bucketMs: number): { hourFrom: number; hourTo: number } {
  if (bucketMs % ROLLUP_MS !== 0) return { hourFrom: from, hourTo: from };
  const hourFrom = Math.ceil(from / ROLLUP_MS) * ROLLUP_MS;
  const hourTo = Math.floor((to + 1) / ROLLUP_MS) * ROLLUP_MS;
  return hourTo > hourFrom ? { hourFrom, hourTo } : { hourFrom: from, hourTo: from };
}

/** A partial bucket as SQL returns it (rollup part or raw part), before merging. */
export interface PartialBucket {
  ts: number;
  min: number;
  max: number;
  sum: number;
  count: number;
  last: number;
  lastTs: number;
}

/** Merge partial buckets (any order, same `ts` may repeat) into final buckets in time order. */
export function mergeBuckets(parts: Iterable<PartialBucket>, limit: number): Bucket[] {
  const by = new Map<number, PartialBucket>();
  for (const p of parts) {
    const g = by.get(p.ts);
    if (!g) { by.set(p.ts, { ...p }); continue; }
    g.min = Math.min(g.min, p.min);
    g.max = Math.max(g.max, p.max);
    g.sum += p.sum;
    g.count += p.count;
    if (p.lastTs > g.lastTs) { g.last = p.last; g.lastTs = p.lastTs; }
  }
  return [...by.values()]
    .sort((a, b) => a.ts - b.ts)
    .slice(0, limit)
    .map((g) => ({ ts: g.ts, min: g.min, max: g.max, avg: g.sum / g.count, count: g.count, last: g.last }));
}

/** Devices are stored as columns plus two JSON texts (text, not jsonb: JSON may hold \u0000). */
export interface DeviceRow {
  id: string;
  first_seen: number | string;
  last_seen: number | string;
  online: number | boolean;
  last: string;
  meta: string | null;
}

export function deviceFromRow(r: DeviceRow): DeviceRecord {
  return {
    id: r.id,
    firstSeen: Number(r.first_seen),
    lastSeen: Number(r.last_seen),
    online: Boolean(r.online),
    last: JSON.parse(r.last) as DeviceRecord['last'],
    meta: r.meta === null ? null : (JSON.parse(r.meta) as unknown),
  };
}

export function checkDevice(rec: DeviceRecord): void {
  if (badName(rec.id)) throw new RangeError(`invalid device id: ${JSON.stringify(rec.id)}`);
}
