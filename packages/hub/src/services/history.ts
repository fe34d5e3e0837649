/**
 * History queries, shared by the WebSocket `history` op and the HTTP API:
 * one parser (so both doors answer bad input with the same codes) and one runner.
 *
 * Times: ms numbers, digit strings, ISO 8601 strings, `now`, or relative to now
 * (`-1h`, `now-30m`). Defaults: `to` = now, `from` = `to` − 24 h.
 * Buckets: `250ms`, `10s`, `5m`, `1h`, `1d`, `1w`, a number of ms, or absent /
 * `auto`: then the runner answers raw points if there are at most `limit` of
 * them, else buckets of the smallest width in NICE_BUCKETS_MS that gives at most
 * `limit` buckets. Unknown devices and metrics give empty answers, not errors:
 * a device may simply not have reported yet.
 */
import { isDeviceId } from '@fieldlink/protocol';
import type { CodeName } from '@fieldlink/protocol';
import type { Bucket, HistoryQuery, RawPoint, Store } from '../storage/types.js';
import { ROLLUP_MS } from '../storage/types.js';

const S = 1000, M = 60 * S, H = 60 * M, D = 24 * H;
export const NICE_BUCKETS_MS: readonly number[] = [S, 2 * S, 5 * S, 10 * S, 30 * S, M, 5 * M, 10 * M, 30 * M, H, 3 * H, 6 * H, 12 * H, D, 7 * D];
export const DEFAULT_LIMIT = 1000;
export const DEFAULT_SPAN_MS = D;
const UNITS: Record<string, number> = { ms: 1, s: S, m: M, h: H, d: D, w: 7 * D };

export type HistoryParse = { ok: true; query: HistoryQuery } | { ok: false; code: CodeName; message: string };

export type HistoryResult =
  | { device: string; metric: string; from: number; to: number; bucketMs: null; points: RawPoint[] }
  | { device: string; metric: string; from: number; to: number; bucketMs: number; buckets: Bucket[] };

/** `10s` → 10000; a number or digit string is ms. Undefined if not a positive whole duration. */
export function parseDuration(v: unknown): number | undefined {
  let ms: number | undefined;
  if (typeof v === 'number') ms = v;
  else if (typeof v === 'string') {
    const m = /^(\d+)(ms|s|m|h|d|w)?$/.exec(v.trim());
    if (m) ms = Number(m[1]) * UNITS[m[2] ?? 'ms']!;
  }
  return ms !== undefined && Number.isSafeInteger(ms) && ms > 0 ? ms : undefined;
}

/** A time as the module comment lists; undefined if unparseable. */
export function parseTime(v: unknown, now: number): number | undefined {
  let t: number | undefined;
  if (typeof v === 'number') t = v;
  else if (typeof v === 'string') {
    const s = v.trim();
    const rel = /^(?:now)?-(\d+)(ms|s|m|h|d|w)$/.exec(s);
    if (s === 'now') t = now;
    else if (rel) t = now - Number(rel[1]) * UNITS[rel[2]!]!;
    else if (/^\d+$/.test(s)) t = Number(s);
    else if (/^\d{4}-\d{2}-\d{2}/.test(s)) t = Date.parse(s);
  }
  return t !== undefined && Number.isSafeInteger(t) && t >= 0 ? t : undefined;
}

const absent = (v: unknown) => v === undefined || v === null || v === '';
const fail = (code: CodeName, message: string): HistoryParse => ({ ok: false, code, message });

function badMetric(m: string): boolean {
  if (m.length > 128) return true;
  for (let i = 0; i < m.length; i++) if (m.charCodeAt(i) < 0x20 || m.charCodeAt(i) === 0x7f) return true;
  return false;
}

export function parseHistoryParams(input: Record<string, unknown>, maxLimit = 10_000, now = Date.now()): HistoryParse {
  const { device, metric } = input;
  if (absent(device)) return fail('MISSING_FIELD', '`device` is required');
  if (typeof device !== 'string') return fail('WRONG_TYPE', '`device` must be a string');
  if (!isDeviceId(device)) return fail('INVALID_ID', `\`device\` ${JSON.stringify(device.slice(0, 80))} is not a device id`);
  if (absent(metric)) return fail('MISSING_FIELD', '`metric` is required');
  if (typeof metric !== 'string') return fail('WRONG_TYPE', '`metric` must be a string');
  if (badMetric(metric)) return fail('WRONG_TYPE', '`metric` must be at most 128 characters without control characters');

  const to = absent(input.to) ? now : parseTime(input.to, now);
  if (to === undefined) return fail('BAD_TIME_RANGE', '`to` is not a time (ms, ISO 8601, `now` or `-1h`)');
  const from = absent(input.from) ? Math.max(0, to - DEFAULT_SPAN_MS) : parseTime(input.from, now);
  if (from === undefined) return fail('BAD_TIME_RANGE', '`from` is not a time (ms, ISO 8601, `now` or `-1h`)');
  if (from > to) return fail('BAD_TIME_RANGE', '`from` is after `to`');

  let bucketMs: number | undefined;
  if (!absent(input.bucket) && input.bucket !== 'auto') {
    bucketMs = parseDuration(input.bucket);
    if (bucketMs === undefined) return fail('UNKNOWN_BUCKET', '`bucket` must be a duration such as 10s, 5m, 1h, 1d, or a number of ms');
  }

  let limit = Math.min(DEFAULT_LIMIT, maxLimit);
  if (!absent(input.limit)) {
    const l = typeof input.limit === 'string' && /^\d+$/.test(input.limit.trim()) ? Number(input.limit) : input.limit;
    if (typeof l !== 'number' || !Number.isSafeInteger(l) || l < 1) return fail('WRONG_TYPE', '`limit` must be a whole number ≥ 1');
    if (l > maxLimit) return fail('LIMIT_TOO_LARGE', `\`limit\` is over the maximum of ${maxLimit}`);
    limit = l;
  }
  return { ok: true, query: { device, metric, from, to, limit, ...(bucketMs !== undefined ? { bucketMs } : {}) } };
}

/** Buckets of width `b` that [from, to] touches (epoch-aligned). */
export function bucketCount(from: number, to: number, b: number): number {
  return Math.floor(to / b) - Math.floor(from / b) + 1;
}

/** Smallest nice width giving at most `limit` buckets; beyond 7 d, the smallest multiple of 7 d that does. */
export function pickBucket(from: number, to: number, limit: number): number {
  for (const b of NICE_BUCKETS_MS) if (bucketCount(from, to, b) <= limit) return b;
  const week = 7 * D;
  let k = Math.max(1, Math.floor((to - from) / (week * limit)));
  while (bucketCount(from, to, k * week) > limit) k++;
  return k * week;
}

/**
 * Auto bucket decides on `store.count`, which counts whole hours from rollups. When
 * retention has pruned raw points but kept rollups, the raw answer (or sub-hour
 * buckets, which read raw) would come back short or empty: then answer from
 * rollups, with the smallest nice bucket that is a multiple of an hour.
 */
export async function runHistory(store: Store, q: HistoryQuery): Promise<HistoryResult> {
  const base = { device: q.device, metric: q.metric, from: q.from, to: q.to };
  if (q.bucketMs !== undefined) return { ...base, bucketMs: q.bucketMs, buckets: await store.buckets({ ...q, bucketMs: q.bucketMs }) };
  const n = await store.count(q);
  if (n <= q.limit) {
    const points = await store.raw(q);
    if (points.length >= n) return { ...base, bucketMs: null, points };
  } else {
    const bucketMs = pickBucket(q.from, q.to, q.limit);
    const buckets = await store.buckets({ ...q, bucketMs });
    if (bucketMs % ROLLUP_MS === 0 || buckets.reduce((a, b) => a + b.count, 0) >= n) return { ...base, bucketMs, buckets };
  }
  const bucketMs = hourBucket(q.from, q.to, q.limit);
  return { ...base, bucketMs, buckets: await store.buckets({ ...q, bucketMs }) };
}

/** Smallest nice width that is a multiple of the rollup hour and gives at most `limit` buckets. */
export function hourBucket(from: number, to: number, limit: number): number {
  const b = pickBucket(from, to, limit);
  return b % ROLLUP_MS === 0 ? b : NICE_BUCKETS_MS.find((x) => x % ROLLUP_MS === 0 && x >= b)!;
}
