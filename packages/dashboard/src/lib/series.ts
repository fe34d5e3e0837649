/**
 * The data of one chart: history from the hub, continued by live points, in time
 * order, without a gap or a duplicate at the seam.
 *
 * Two modes:
 *  - raw (`bucketMs === null`): one entry per point. `add` inserts in time order
 *    and drops a point whose ts is already present (dedupe by ts), so live points
 *    that overlap a history answer or a reconnect backfill are counted once.
 *  - bucketed: entries are epoch-aligned buckets of `bucketMs` (as the hub's) with
 *    min/max/avg. Buckets up to `sealedTo` come closed from the hub (`loadBuckets`);
 *    later points are aggregated here. Points arrive in ts order in this mode
 *    (history pages, then live): a point at or before the last one is a duplicate.
 *    After a reconnect the owner reloads a bucketed series rather than backfill it.
 * Arrays are kept columnar because uPlot draws from them directly.
 */
export interface Bucket { ts: number; min: number; max: number; avg: number; count: number; last: number }

export class Series {
  /** Point time, or bucket start (ms). */
  readonly x: number[] = [];
  /** Value, or bucket average. */
  readonly y: number[] = [];
  /** Bucket min / max (the value itself for raw points). */
  readonly lo: number[] = [];
  readonly hi: number[] = [];
  private readonly n: number[] = [];
  private sealedTo = -Infinity;
  private lastTs = -Infinity;
  /** Bumped on every change; the chart redraws when it differs from what it drew. */
  version = 0;

  constructor(readonly bucketMs: number | null, private readonly maxLen = 20_000) {}

  get length(): number {
    return this.x.length;
  }

  /** Closed buckets from the hub; points at or before `sealedTo` are already in them. */
  loadBuckets(buckets: readonly Bucket[], sealedTo: number): void {
    for (const b of buckets) {
      this.x.push(b.ts);
      this.y.push(b.avg);
      this.lo.push(b.min);
      this.hi.push(b.max);
      this.n.push(b.count);
    }
    this.sealedTo = Math.max(this.sealedTo, sealedTo);
    this.lastTs = Math.max(this.lastTs, sealedTo);
    this.version++;
  }

  /** Adds one reading; false when it was a duplicate or already counted. */
  add(ts: number, v: number): boolean {
    if (!Number.isFinite(ts) || !Number.isFinite(v) || ts <= this.sealedTo) return false;
    const ok = this.bucketMs === null ? this.addRaw(ts, v) : this.addToBucket(ts, v, this.bucketMs);
    if (ok) {
      this.version++;
      if (this.x.length > this.maxLen) this.dropFirst(this.x.length - this.maxLen);
    }
    return ok;
  }

  /** Drops entries before `ts` (a sliding window). */
  trimBefore(ts: number): void {
    const k = lowerBound(this.x, this.bucketMs === null ? ts : ts - this.bucketMs);
    if (k > 0) this.dropFirst(k);
  }

  /** Time of the newest reading added or sealed (−Infinity when empty). */
  get newest(): number {
    return this.lastTs;
  }

  private addRaw(ts: number, v: number): boolean {
    const len = this.x.length;
    let i = len;
    if (len > 0 && ts <= this.x[len - 1]!) {
      i = lowerBound(this.x, ts);
      if (this.x[i] === ts) return false;
    }
    if (i === len) {
      this.x.push(ts);
      this.y.push(v);
      this.lo.push(v);
      this.hi.push(v);
      this.n.push(1);
    } else {
      this.x.splice(i, 0, ts);
      this.y.splice(i, 0, v);
      this.lo.splice(i, 0, v);
      this.hi.splice(i, 0, v);
      this.n.splice(i, 0, 1);
    }
    this.lastTs = Math.max(this.lastTs, ts);
    return true;
  }

  private addToBucket(ts: number, v: number, b: number): boolean {
    if (ts <= this.lastTs) return false;
    this.lastTs = ts;
    const start = Math.floor(ts / b) * b;
    const i = this.x.length - 1;
    if (i >= 0 && this.x[i] === start) {
      const n = this.n[i]! + 1;
      this.y[i] = this.y[i]! + (v - this.y[i]!) / n;
      this.lo[i] = Math.min(this.lo[i]!, v);
      this.hi[i] = Math.max(this.hi[i]!, v);
      this.n[i] = n;
    } else {
      this.x.push(start);
      this.y.push(v);
      this.lo.push(v);
      this.hi.push(v);
      this.n.push(1);
    }
    return true;
  }

  private dropFirst(k: number): void {
    for (const a of [this.x, this.y, this.lo, this.hi, this.n]) a.splice(0, k);
    this.version++;
  }
}

/** First index whose value is >= t (arr sorted ascending). */
export function lowerBound(arr: readonly number[], t: number): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
