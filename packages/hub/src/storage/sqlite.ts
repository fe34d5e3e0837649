/**
 * SQLite backend (better-sqlite3, WAL, synchronous=NORMAL).
 *
 * better-sqlite3 is synchronous: every call blocks the event loop for its
 * duration. The contract that keeps the hub responsive is that each call here is
 * one short statement or transaction: `append` is bounded by the ingest batch
 * size, `stream` and `prune` work in chunks, bucketed queries read hourly rollups.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Bucket, DeviceRecord, HistoryQuery, Point, RangeQuery, RawPoint, Store } from './types.js';
import { ROLLUP_MS } from './types.js';
import { DEFAULT_CHUNK, checkDevice, checkPoints, deviceFromRow, mergeBuckets, rollupsOf, seriesKey, splitRange } from './common.js';
import type { DeviceRow, PartialBucket } from './common.js';
import { migrateSqlite } from './sqlite-migrations.js';

export interface SqliteStoreOptions {
  /** Database file; parent directories are created. `:memory:` works for tools. */
  path: string;
  /** How long a write waits for another process's lock (default 5,000 ms). */
  busyTimeoutMs?: number;
}

type Stmt = Database.Statement;

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly db: Database.Database;
  private readonly seriesIds = new Map<string, number>();
  private s!: Record<'series' | 'findSeries' | 'insert' | 'rollup' | 'raw' | 'rawAgg' | 'rollAgg' | 'rawCount' | 'rollCount'
    | 'metrics' | 'allSeries' | 'prune' | 'pruneAll' | 'pruneRoll' | 'upsertDevice' | 'devices' | 'device', Stmt>;

  constructor(opts: SqliteStoreOptions) {
    if (opts.path !== ':memory:') mkdirSync(dirname(opts.path), { recursive: true });
    this.db = new Database(opts.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma(`busy_timeout = ${Math.trunc(opts.busyTimeoutMs ?? 5000)}`);
  }

  async init(): Promise<void> {
    migrateSqlite(this.db);
    const p = (sql: string) => this.db.prepare(sql);
    this.s = {
      series: p(`INSERT INTO series (device, metric) VALUES (?, ?)
                 ON CONFLICT (device, metric) DO UPDATE SET device = excluded.device RETURNING id`),
      findSeries: p('SELECT id FROM series WHERE device = ? AND metric = ?'),
      insert: p('INSERT INTO points (series_id, ts, value) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
      rollup: p(`INSERT INTO rollups_hourly (series_id, hour, vmin, vmax, vsum, n, last, last_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (series_id, hour) DO UPDATE SET vmin = min(vmin, excluded.vmin), vmax = max(vmax, excluded.vmax),
                   vsum = vsum + excluded.vsum, n = n + excluded.n,
                   last = CASE WHEN excluded.last_ts > last_ts THEN excluded.last ELSE last END,
                   last_ts = max(last_ts, excluded.last_ts)`),
      raw: p('SELECT ts, value FROM points WHERE series_id = ? AND ts >= ? AND ts <= ? ORDER BY ts LIMIT ?'),
      // Named (@s series, @b bucket, @lo..@hi inclusive range, @lim limit): better-sqlite3 binds ?NNN only by name.
      rawAgg: p(`SELECT g.bts AS ts, g.min, g.max, g.sum, g.count, g.lastTs,
                   (SELECT value FROM points p WHERE p.series_id = @s AND p.ts = g.lastTs) AS last FROM (
                   SELECT ts - ts % @b AS bts, min(value) AS min, max(value) AS max, sum(value) AS sum, count(*) AS count, max(ts) AS lastTs
                   FROM points WHERE series_id = @s AND ts >= @lo AND ts <= @hi GROUP BY 1 ORDER BY 1 LIMIT @lim) g`),
      rollAgg: p(`SELECT g.bts AS ts, g.min, g.max, g.sum, g.count, g.lastTs,
                   (SELECT last FROM rollups_hourly r WHERE r.series_id = @s AND r.hour = g.lastTs - g.lastTs % ${ROLLUP_MS}) AS last FROM (
                   SELECT hour - hour % @b AS bts, min(vmin) AS min, max(vmax) AS max, sum(vsum) AS sum, sum(n) AS count, max(last_ts) AS lastTs
                   FROM rollups_hourly WHERE series_id = @s AND hour >= @lo AND hour < @hi GROUP BY 1 ORDER BY 1 LIMIT @lim) g`),
      rawCount: p('SELECT count(*) AS n FROM points WHERE series_id = ? AND ts >= ? AND ts <= ?'),
      rollCount: p('SELECT coalesce(sum(n), 0) AS n FROM rollups_hourly WHERE series_id = ? AND hour >= ? AND hour < ?'),
      metrics: p('SELECT metric FROM series WHERE device = ?'),
      allSeries: p('SELECT id FROM series ORDER BY id'),
      prune: p(`DELETE FROM points WHERE series_id = @s AND ts IN
                  (SELECT ts FROM points WHERE series_id = @s AND ts < @before ORDER BY ts LIMIT @lim)`),
      pruneAll: p('DELETE FROM points WHERE series_id = ? AND ts < ?'),
      pruneRoll: p(`DELETE FROM rollups_hourly WHERE series_id = @s AND hour IN
                  (SELECT hour FROM rollups_hourly WHERE series_id = @s AND hour < @before ORDER BY hour LIMIT @lim)`),
      upsertDevice: p(`INSERT INTO devices (id, first_seen, last_seen, online, last, meta) VALUES (?, ?, ?, ?, ?, ?)
                       ON CONFLICT (id) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen),
                         last_seen = excluded.last_seen, online = excluded.online, last = excluded.last, meta = excluded.meta`),
      devices: p('SELECT * FROM devices'),
      device: p('SELECT * FROM devices WHERE id = ?'),
    };
  }

  private readonly appendTx = (points: readonly Point[]): Map<string, number> => this.db.transaction(() => {
    // New series ids join the cache only after commit: a rolled-back id must not be reused.
    const fresh = new Map<string, number>();
    const inserted: { seriesId: number; ts: number; value: number }[] = [];
    for (const p of points) {
      const key = seriesKey(p.device, p.metric);
      let id = this.seriesIds.get(key) ?? fresh.get(key);
      if (id === undefined) {
        id = (this.s.series.get(p.device, p.metric) as { id: number }).id;
        fresh.set(key, id);
      }
      if (this.s.insert.run(id, p.ts, p.value).changes === 1) inserted.push({ seriesId: id, ts: p.ts, value: p.value });
    }
    for (const r of rollupsOf(inserted)) this.s.rollup.run(r.seriesId, r.hour, r.min, r.max, r.sum, r.count, r.last, r.lastTs);
    return fresh;
  })();

  async append(points: readonly Point[]): Promise<void> {
    checkPoints(points);
    if (points.length === 0) return;
    for (const [k, id] of this.appendTx(points)) this.seriesIds.set(k, id);
  }

  private seriesId(device: string, metric: string): number | undefined {
    const key = seriesKey(device, metric);
    let id = this.seriesIds.get(key);
    if (id === undefined) {
      id = (this.s.findSeries.get(device, metric) as { id: number } | undefined)?.id;
      if (id !== undefined) this.seriesIds.set(key, id);
    }
    return id;
  }

  async raw(q: HistoryQuery): Promise<RawPoint[]> {
    const id = this.seriesId(q.device, q.metric);
    return id === undefined ? [] : (this.s.raw.all(id, q.from, q.to, q.limit) as RawPoint[]);
  }

  async buckets(q: HistoryQuery & { bucketMs: number }): Promise<Bucket[]> {
    if (!Number.isSafeInteger(q.bucketMs) || q.bucketMs <= 0) throw new RangeError(`invalid bucketMs ${q.bucketMs}`);
    const id = this.seriesId(q.device, q.metric);
    if (id === undefined || q.from > q.to) return [];
    const { hourFrom, hourTo } = splitRange(q.from, q.to, q.bucketMs);
    const parts: PartialBucket[] = [];
    const rawPart = (lo: number, hi: number) => {
      if (lo <= hi) parts.push(...(this.s.rawAgg.all({ s: id, b: q.bucketMs, lo, hi, lim: q.limit }) as PartialBucket[]));
    };
    if (hourFrom === hourTo) rawPart(q.from, q.to);
    else {
      rawPart(q.from, hourFrom - 1);
      parts.push(...(this.s.rollAgg.all({ s: id, b: q.bucketMs, lo: hourFrom, hi: hourTo, lim: q.limit }) as PartialBucket[]));
      rawPart(hourTo, q.to);
    }
    return mergeBuckets(parts, q.limit);
  }

  async *stream(q: RangeQuery, opts: { chunkSize?: number } = {}): AsyncIterable<RawPoint[]> {
    const chunk = Math.max(1, opts.chunkSize ?? DEFAULT_CHUNK);
    let from = q.from;
    while (from <= q.to) {
      const rows = await this.raw({ ...q, from, limit: chunk });
      if (rows.length > 0) yield rows;
      if (rows.length < chunk) return;
      from = rows[rows.length - 1]!.ts + 1;
    }
  }

  async count(q: RangeQuery): Promise<number> {
    const id = this.seriesId(q.device, q.metric);
    if (id === undefined || q.from > q.to) return 0;
    // Whole hours from rollups keep this O(hours), not O(points); edges from raw.
    const { hourFrom, hourTo } = splitRange(q.from, q.to, ROLLUP_MS);
    const rawN = (lo: number, hi: number) => (lo <= hi ? (this.s.rawCount.get(id, lo, hi) as { n: number }).n : 0);
    if (hourFrom === hourTo) return rawN(q.from, q.to);
    return rawN(q.from, hourFrom - 1) + (this.s.rollCount.get(id, hourFrom, hourTo) as { n: number }).n + rawN(hourTo, q.to);
  }

  async metrics(device: string): Promise<string[]> {
    return (this.s.metrics.all(device) as { metric: string }[]).map((r) => r.metric).sort();
  }

  async upsertDevice(rec: DeviceRecord): Promise<void> {
    checkDevice(rec);
    this.s.upsertDevice.run(rec.id, rec.firstSeen, rec.lastSeen, rec.online ? 1 : 0, JSON.stringify(rec.last ?? {}),
      rec.meta === undefined ? null : JSON.stringify(rec.meta));
  }

  async devices(): Promise<DeviceRecord[]> {
    return (this.s.devices.all() as DeviceRow[]).map(deviceFromRow).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async device(id: string): Promise<DeviceRecord | undefined> {
    const row = this.s.device.get(id) as DeviceRow | undefined;
    return row && deviceFromRow(row);
  }

  async prune(before: number, maxRows?: number): Promise<number> {
    return this.pruneWith(before, maxRows, this.s.prune);
  }

  async pruneRollups(before: number, maxRows?: number): Promise<number> {
    return this.pruneWith(before, maxRows, this.s.pruneRoll);
  }

  /** Per series, so each delete is a range on the primary key (there is no index on ts alone). */
  private pruneWith(before: number, maxRows: number | undefined, chunked: Stmt): number {
    const ids = (this.s.allSeries.all() as { id: number }[]).map((r) => r.id);
    return this.db.transaction(() => {
      let left = maxRows ?? Infinity;
      let deleted = 0;
      for (const id of ids) {
        if (left <= 0) break;
        const n = left === Infinity && chunked === this.s.prune
          ? this.s.pruneAll.run(id, before).changes
          : chunked.run({ s: id, before, lim: left === Infinity ? -1 : left }).changes;
        deleted += n;
        left -= n;
      }
      return deleted;
    })();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
