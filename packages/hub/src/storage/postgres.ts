/**
 * PostgreSQL backend (`pg` pool). Same logical schema and contract as SQLite.
 *
 * A batch is two round trips: series ids for names not cached yet (committed on
 * their own, harmless if the batch then fails), then one statement that inserts
 * the points from `unnest` arrays and upserts their hourly rollups from the rows
 * actually inserted (RETURNING), so one statement = one atomic transaction.
 * Points are sent sorted by (series, ts): the primary-key btree is then walked
 * in order (measured 1.4× faster than arrival order), and the rollup upserts come
 * out of a sorted GroupAggregate, so concurrent batches (ingest keeps several in
 * flight, on several pool connections) lock rollup rows in the same order and
 * wait for each other instead of deadlocking.
 * bigint columns are cast to float8 in SELECTs: exact below 2^53, and `pg` then
 * returns numbers, not strings.
 *
 * `points` is partitioned by UTC day (migration v4, postgres-partitions.ts):
 * the days a batch touches are made before it is inserted; retention drops whole
 * days and deletes only the rest.
 */
import { pgTransaction } from './pg-tx.js';
import pg from 'pg';
import type { Bucket, DeviceRecord, HistoryQuery, Point, RangeQuery, RawPoint, Store } from './types.js';
import { ROLLUP_MS } from './types.js';
import { streamRaw, checkDevice, checkPoints, deviceFromRow, mergeBuckets, seriesKey, splitRange } from './common.js';
import type { DeviceRow, PartialBucket } from './common.js';
import { redactUrl } from '../redact.js';
import { migratePostgres } from './postgres-migrations.js';
import { BufferedState, type BufferOptions, type MqttStateStore } from './mqtt-state.js';
import { postgresState } from './mqtt-state-postgres.js';
import { DayPartitions } from './postgres-partitions.js';
import { pgLinkWrite, type LinkWrite } from './link-sql.js';

export interface PostgresStoreOptions {
  /** `postgres://user:pass@host:port/db`. */
  url: string;
  /** Schema for every table (created if missing); default: the server's search_path. */
  schema?: string;
  /** Pool size (default 4). */
  poolMax?: number;
  /** Give up connecting after this long (default 5,000 ms). */
  connectTimeoutMs?: number;
  /** Insert statements running at once (default 2); more batches queue and are grouped. */
  appendConcurrency?: number;
  /** Most points grouped into one insert statement (default 20,000). */
  groupMaxPoints?: number;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

const APPEND_SQL = `
  WITH ins AS (
    INSERT INTO points (series_id, ts, value)
    SELECT * FROM unnest($1::int[], $2::bigint[], $3::float8[])
    ON CONFLICT DO NOTHING
    RETURNING series_id, ts, value
  )
  INSERT INTO rollups_hourly AS r (series_id, hour, vmin, vmax, vsum, n, last, last_ts)
  SELECT series_id, ts - ts % ${ROLLUP_MS}, min(value), max(value), sum(value), count(*),
         (array_agg(value ORDER BY ts DESC))[1], max(ts)
  FROM ins GROUP BY 1, 2
  ON CONFLICT (series_id, hour) DO UPDATE SET
    vmin = LEAST(r.vmin, EXCLUDED.vmin), vmax = GREATEST(r.vmax, EXCLUDED.vmax),
    vsum = r.vsum + EXCLUDED.vsum, n = r.n + EXCLUDED.n,
    last = CASE WHEN EXCLUDED.last_ts > r.last_ts THEN EXCLUDED.last ELSE r.last END,
    last_ts = GREATEST(r.last_ts, EXCLUDED.last_ts)`;

const SERIES_SQL = `
  WITH input AS (SELECT * FROM unnest($1::text[], $2::text[]) AS t(device, metric)),
  ins AS (INSERT INTO series (device, metric) SELECT device, metric FROM input
          ON CONFLICT (device, metric) DO NOTHING RETURNING id, device, metric)
  SELECT id, device, metric FROM ins
  UNION ALL SELECT s.id, s.device, s.metric FROM series s JOIN input USING (device, metric)`;

// $1 series, $2 bucket, $3..$4 range, $5 limit. "lastTs" quoted: pg folds unquoted names.
const RAW_AGG_SQL = `
  SELECT (ts - ts % $2)::float8 AS ts, min(value) AS min, max(value) AS max, sum(value) AS sum,
         count(*)::float8 AS count, max(ts)::float8 AS "lastTs", (array_agg(value ORDER BY ts DESC))[1] AS last
  FROM points WHERE series_id = $1 AND ts >= $3 AND ts <= $4 GROUP BY 1 ORDER BY 1 LIMIT $5`;
const ROLL_AGG_SQL = `
  SELECT (hour - hour % $2)::float8 AS ts, min(vmin) AS min, max(vmax) AS max, sum(vsum) AS sum,
         sum(n)::float8 AS count, max(last_ts)::float8 AS "lastTs", (array_agg(last ORDER BY last_ts DESC))[1] AS last
  FROM rollups_hourly WHERE series_id = $1 AND hour >= $3 AND hour < $4 GROUP BY 1 ORDER BY 1 LIMIT $5`;

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly pool: pg.Pool;
  private readonly seriesIds = new Map<string, number>();
  private readonly days: DayPartitions;
  private readonly where: string;

  constructor(private readonly opts: PostgresStoreOptions) {
    if (opts.schema !== undefined && !SCHEMA_NAME.test(opts.schema)) throw new RangeError(`invalid schema name ${JSON.stringify(opts.schema)}`);
    this.where = redactUrl(opts.url);
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolMax ?? 4,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
      ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
    });
    // An idle client losing its connection must not crash the hub; the next query reports it.
    this.pool.on('error', () => undefined);
    // synchronous_commit=on whatever the server or database default: a resolved write (an append, a
    // flush of engine state) is on the server's disk, which is what acknowledgements promise
    // (docs/storage.md). Queued on each new connection ahead of its first query.
    this.pool.on('connect', (c) => { c.query('SET synchronous_commit = on').catch(() => undefined); });
    this.days = new DayPartitions(this.pool);
  }

  async init(): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw new Error(`PostgreSQL at ${this.where} is unreachable: ${(err as Error).message}`, { cause: err });
    }
    try {
      await migratePostgres(client, Infinity, this.opts.schema);
    } finally {
      client.release();
    }
  }

  /** The MQTT engine's durable store on this database (one per engine; shares the pool). */
  mqttState(opts: BufferOptions = {}): MqttStateStore {
    return new BufferedState(postgresState(this.pool), opts);
  }

  /**
   * Group commit: at most `appendConcurrency` (default 2) insert statements run at
   * once; batches arriving meanwhile queue, and the next statement takes all of
   * them (up to `groupMaxPoints`), resolving each when that statement commits.
   * If a group fails, its batches are retried one by one, so an error reaches only
   * the batch that causes it and each batch stays atomic.
   */
  async append(points: readonly Point[], link?: LinkWrite): Promise<void> {
    checkPoints(points);
    if (points.length === 0 && !link) return;
    if (this.closed) throw new Error('PostgreSQL store is closed');
    if (link) return this.appendLinked(points, link);
    return new Promise<void>((resolve, reject) => {
      this.appendQueue.push({ points, resolve, reject });
      this.pump();
    });
  }

  private readonly appendQueue: { points: readonly Point[]; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private appending = 0;

  private pump(): void {
    while (this.appending < (this.opts.appendConcurrency ?? 2) && this.appendQueue.length > 0) {
      const group = [this.appendQueue.shift()!];
      let n = group[0]!.points.length;
      const max = this.opts.groupMaxPoints ?? 20_000;
      while (this.appendQueue.length > 0 && n + this.appendQueue[0]!.points.length <= max) {
        const next = this.appendQueue.shift()!;
        group.push(next);
        n += next.points.length;
      }
      this.appending++;
      void this.writeGroup(group).finally(() => {
        this.appending--;
        this.pump();
      });
    }
  }

  private async writeGroup(group: { points: readonly Point[]; resolve: () => void; reject: (e: unknown) => void }[]): Promise<void> {
    try {
      await this.insert(group.length === 1 ? group[0]!.points : group.flatMap((g) => g.points));
      for (const g of group) g.resolve();
      return;
    } catch (err) {
      if (group.length === 1) { group[0]!.reject(err); return; }
    }
    for (const g of group) await this.insert(g.points).then(g.resolve, g.reject);
  }

  /**
   * An append with link rows (storage/link-sql.ts): its own transaction on one
   * client, not grouped, so a fenced mark that fails fails only this batch.
   */
  private async appendLinked(points: readonly Point[], link: LinkWrite): Promise<void> {
    this.appending++;
    try {
      if (points.length) {
        await this.resolveSeries(points);
        await this.days.ensure(points);
      }
      await pgTransaction(this.pool, async (client) => {
        if (points.length) await client.query(APPEND_SQL, this.columns(points));
        await pgLinkWrite(client, link);
      });
    } finally {
      this.appending--;
    }
  }

  /** The statement's parameters: series ids, times and values sorted by series (stable), as array literals built with join (no per-element escaping). */
  private columns(points: readonly Point[]): string[] {
    const n = points.length;
    const sid = new Int32Array(n);
    const counts = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const id = this.seriesIds.get(seriesKey(points[i]!.device, points[i]!.metric))!;
      sid[i] = id;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    // Counting sort by series id: linear, stable (arrival order kept within a series).
    let off = 0;
    for (const id of [...counts.keys()].sort((a, b) => a - b)) {
      const c = counts.get(id)!;
      counts.set(id, off);
      off += c;
    }
    const ids = new Array<number>(n), ts = new Array<number>(n), values = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const at = counts.get(sid[i]!)!;
      counts.set(sid[i]!, at + 1);
      ids[at] = sid[i]!;
      ts[at] = points[i]!.ts;
      values[at] = points[i]!.value;
    }
    // Finite numbers only (checkPoints): String(number) round-trips exactly through float8/bigint input.
    return [`{${ids.join(',')}}`, `{${ts.join(',')}}`, `{${values.join(',')}}`];
  }

  /** One statement: the points and their rollups. */
  private async insert(points: readonly Point[]): Promise<void> {
    await this.resolveSeries(points);
    await this.days.ensure(points);
    const params = this.columns(points);
    try {
      await this.pool.query(APPEND_SQL, params);
    } catch (err) {
      // 23514 "no partition of relation found for row": a day this store knew was
      // dropped meanwhile (retention in another hub). Forget the cache and retry once.
      if ((err as { code?: string }).code !== '23514') throw err;
      this.days.forget();
      await this.days.ensure(points);
      await this.pool.query(APPEND_SQL, params);
    }
  }

  private async resolveSeries(points: readonly Point[]): Promise<void> {
    const missing = new Map<string, [string, string]>();
    for (const p of points) {
      const key = seriesKey(p.device, p.metric);
      if (!this.seriesIds.has(key)) missing.set(key, [p.device, p.metric]);
    }
    if (missing.size === 0) return;
    const names = [...missing.values()];
    const { rows } = await this.pool.query<{ id: number; device: string; metric: string }>(SERIES_SQL, [names.map((n) => n[0]), names.map((n) => n[1])]);
    for (const r of rows) this.seriesIds.set(seriesKey(r.device, r.metric), r.id);
    // A series another append inserted concurrently is invisible to that statement's
    // snapshot (its INSERT waited, then did nothing): read those again, now committed.
    const late = names.filter(([d, m]) => !this.seriesIds.has(seriesKey(d, m)));
    if (late.length === 0) return;
    const again = await this.pool.query<{ id: number; device: string; metric: string }>(
      'SELECT s.id, s.device, s.metric FROM series s JOIN unnest($1::text[], $2::text[]) AS t(device, metric) USING (device, metric)',
      [late.map((n) => n[0]), late.map((n) => n[1])]);
    for (const r of again.rows) this.seriesIds.set(seriesKey(r.device, r.metric), r.id);
    if (again.rows.length < late.length) throw new Error('series ids could not be resolved; retry the batch');
  }

  private async seriesId(device: string, metric: string): Promise<number | undefined> {
    const key = seriesKey(device, metric);
    if (!this.seriesIds.has(key)) {
      const { rows } = await this.pool.query<{ id: number }>('SELECT id FROM series WHERE device = $1 AND metric = $2', [device, metric]);
      if (rows[0]) this.seriesIds.set(key, rows[0].id);
    }
    return this.seriesIds.get(key);
  }

  async raw(q: HistoryQuery): Promise<RawPoint[]> {
    const id = await this.seriesId(q.device, q.metric);
    if (id === undefined) return [];
    const { rows } = await this.pool.query<RawPoint>(
      'SELECT ts::float8 AS ts, value FROM points WHERE series_id = $1 AND ts >= $2 AND ts <= $3 ORDER BY ts LIMIT $4',
      [id, q.from, q.to, q.limit]);
    return rows;
  }

  async buckets(q: HistoryQuery & { bucketMs: number }): Promise<Bucket[]> {
    if (!Number.isSafeInteger(q.bucketMs) || q.bucketMs <= 0) throw new RangeError(`invalid bucketMs ${q.bucketMs}`);
    const id = await this.seriesId(q.device, q.metric);
    if (id === undefined || q.from > q.to) return [];
    const { hourFrom, hourTo } = splitRange(q.from, q.to, q.bucketMs);
    const run = async (sql: string, lo: number, hi: number) =>
      (await this.pool.query<PartialBucket>(sql, [id, q.bucketMs, lo, hi, q.limit])).rows;
    if (hourFrom === hourTo) return mergeBuckets(await run(RAW_AGG_SQL, q.from, q.to), q.limit);
    const parts = await Promise.all([
      hourFrom > q.from ? run(RAW_AGG_SQL, q.from, hourFrom - 1) : [],
      run(ROLL_AGG_SQL, hourFrom, hourTo),
      hourTo <= q.to ? run(RAW_AGG_SQL, hourTo, q.to) : [],
    ]);
    return mergeBuckets(parts.flat(), q.limit);
  }

  async *stream(q: RangeQuery, opts: { chunkSize?: number } = {}): AsyncIterable<RawPoint[]> {
    yield* streamRaw((r) => this.raw(r), q, opts.chunkSize);
  }

  async count(q: RangeQuery): Promise<number> {
    const id = await this.seriesId(q.device, q.metric);
    if (id === undefined || q.from > q.to) return 0;
    const { hourFrom, hourTo } = splitRange(q.from, q.to, ROLLUP_MS);
    if (hourFrom === hourTo) {
      const sql = 'SELECT count(*)::float8 AS n FROM points WHERE series_id = $1 AND ts >= $2 AND ts <= $3';
      return (await this.pool.query<{ n: number }>(sql, [id, q.from, q.to])).rows[0]!.n;
    }
    // Whole hours from rollups keep this O(hours), not O(points); edges from raw.
    const { rows } = await this.pool.query<{ n: number }>(
      `SELECT ((SELECT count(*) FROM points WHERE series_id = $1 AND ts >= $2 AND ts < $4)
             + (SELECT count(*) FROM points WHERE series_id = $1 AND ts >= $5 AND ts <= $3)
             + (SELECT coalesce(sum(n), 0) FROM rollups_hourly WHERE series_id = $1 AND hour >= $4 AND hour < $5))::float8 AS n`,
      [id, q.from, q.to, hourFrom, hourTo]);
    return rows[0]!.n;
  }

  async metrics(device: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ metric: string }>('SELECT metric FROM series WHERE device = $1', [device]);
    return rows.map((r) => r.metric).sort();
  }

  async upsertDevice(rec: DeviceRecord): Promise<void> {
    checkDevice(rec);
    await this.pool.query(
      `INSERT INTO devices (id, first_seen, last_seen, online, last, meta) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO UPDATE SET first_seen = LEAST(devices.first_seen, EXCLUDED.first_seen),
         last_seen = EXCLUDED.last_seen, online = EXCLUDED.online, last = EXCLUDED.last, meta = EXCLUDED.meta`,
      [rec.id, rec.firstSeen, rec.lastSeen, rec.online, JSON.stringify(rec.last ?? {}), rec.meta === undefined ? null : JSON.stringify(rec.meta)]);
  }

  async devices(): Promise<DeviceRecord[]> {
    const { rows } = await this.pool.query<DeviceRow>('SELECT * FROM devices');
    return rows.map(deviceFromRow).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async device(id: string): Promise<DeviceRecord | undefined> {
    const { rows } = await this.pool.query<DeviceRow>('SELECT * FROM devices WHERE id = $1', [id]);
    return rows[0] && deviceFromRow(rows[0]);
  }

  /**
   * Whole days before `before` are dropped first, one partition per call when
   * `maxRows` is given (a DROP is one short statement however many rows it
   * holds; its row count is returned); then rows of the day `before` falls in
   * are deleted in chunks, by primary key (ctid is not unique across partitions).
   */
  async prune(before: number, maxRows?: number): Promise<number> {
    const dropped = await this.days.dropBefore(before, maxRows === undefined ? Infinity : 1);
    if (maxRows !== undefined && dropped > 0) return dropped;
    const r = maxRows === undefined
      ? await this.pool.query('DELETE FROM points WHERE ts < $1', [before])
      : await this.pool.query(
        'DELETE FROM points WHERE ts < $1 AND (series_id, ts) IN (SELECT series_id, ts FROM points WHERE ts < $1 LIMIT $2)', [before, maxRows]);
    return dropped + (r.rowCount ?? 0);
  }

  /** Chunked by ctid (the table is not partitioned): a bounded delete in one scan of the BRIN range. */
  async pruneRollups(before: number, maxRows?: number): Promise<number> {
    const r = maxRows === undefined
      ? await this.pool.query('DELETE FROM rollups_hourly WHERE hour < $1', [before])
      : await this.pool.query('DELETE FROM rollups_hourly WHERE ctid = ANY(ARRAY(SELECT ctid FROM rollups_hourly WHERE hour < $1 LIMIT $2))', [before, maxRows]);
    return r.rowCount ?? 0;
  }

  private closed = false;

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.appending > 0 || this.appendQueue.length > 0) await new Promise((r) => setTimeout(r, 5)); // let accepted batches commit
    await this.pool.end();
  }
}
