/**
 * The store: telemetry points, history queries and the device registry.
 * Backends: SQLite (default, embedded) and PostgreSQL. `storage/index.ts` is the
 * only file that picks one; test/storage/contract.ts runs against both.
 *
 * Times are integer ms since the Unix epoch (UTC), never negative. Ranges are
 * inclusive at both ends: `from <= ts <= to`. Device and metric names are opaque
 * strings (any Unicode except NUL, which PostgreSQL cannot store) and reach SQL
 * only as parameters.
 */
import type { BufferOptions, MqttStateStore } from './mqtt-state.js';
import type { LinkWrite } from './link-sql.js';

export interface Point {
  device: string;
  metric: string;
  ts: number;
  value: number;
}

export interface RawPoint {
  ts: number;
  value: number;
}

export interface Bucket {
  /** Start of the bucket (aligned to a multiple of `bucketMs` since the epoch). */
  ts: number;
  min: number;
  max: number;
  avg: number;
  count: number;
  /** Value of the latest point in the bucket. */
  last: number;
}

export interface HistoryQuery {
  device: string;
  metric: string;
  from: number;
  to: number;
  /** Maximum points (raw) or buckets returned; the earliest ones are kept. */
  limit: number;
  /** Omit for raw points; otherwise aggregate into buckets of this width. */
  bucketMs?: number;
}

export type RangeQuery = Omit<HistoryQuery, 'limit' | 'bucketMs'>;

export interface DeviceRecord {
  id: string;
  firstSeen: number;
  lastSeen: number;
  online: boolean;
  /** Last value of every field of the last telemetry, numeric or not, with its time. */
  last: Record<string, { value: unknown; ts: number }>;
  meta: unknown;
}

/** Width of the rollup rows the backends maintain as data arrives. */
export const ROLLUP_MS = 3_600_000;

/**
 * What a commit survives (--durability, docs/storage.md). `process`: a crash or
 * kill -9 of the hub (SQLite WAL, synchronous=NORMAL); `power`: also a power cut
 * or OS crash (synchronous=FULL). PostgreSQL commits with synchronous_commit=on
 * in both.
 */
export type Durability = 'process' | 'power';

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /**
   * The MQTT engine's durable state (EngineStore, packages/mqtt/src/store.ts) in
   * this database: group commit once per tick, bounded buffer (mqtt-state.ts).
   * Closed by its owner (the bus) before the store.
   */
  mqttState(opts?: BufferOptions): MqttStateStore;
  /** Apply migrations; idempotent. `openStore` has already called it. */
  init(): Promise<void>;
  /**
   * Append a batch atomically (one transaction), updating the hourly rollups in
   * the same transaction. A point whose (device, metric, ts) is already stored is
   * ignored (first write wins), so redelivered QoS 1 messages never count twice.
   * Throws RangeError, writing nothing, if a point has a non-finite value, a ts that
   * is not a non-negative safe integer, or an empty name / a name containing NUL.
   * `link` (storage/link-sql.ts): outbox rows, a fenced high-water mark and link
   * events committed in the same transaction as the points (all or nothing; a
   * MarkFenceError writes nothing). With `link`, `points` may be empty.
   */
  append(points: readonly Point[], link?: LinkWrite): Promise<void>;
  /** Raw points in time order, at most `limit`. */
  raw(q: HistoryQuery): Promise<RawPoint[]>;
  /**
   * Buckets in time order, at most `limit`; empty buckets are absent. Exact over
   * the range: when `bucketMs` is a multiple of ROLLUP_MS, whole hours inside the
   * range are read from rollups and only the partial hours at the edges from raw.
   * Hours whose raw points were pruned still answer from their rollups.
   */
  buckets(q: HistoryQuery & { bucketMs: number }): Promise<Bucket[]>;
  /**
   * Streams raw points in time order, in chunks of at most `chunkSize` (default
   * 5,000), without holding the range in memory (CSV export). Each chunk is its
   * own short read (keyset pagination), so points appended meanwhile may appear.
   */
  stream(q: RangeQuery, opts?: { chunkSize?: number }): AsyncIterable<RawPoint[]>;
  /** Number of raw points in the range (used to pick a bucket so answers stay under `limit`). */
  count(q: RangeQuery): Promise<number>;
  /** Metric names stored for a device, sorted; empty for an unknown device. */
  metrics(device: string): Promise<string[]>;
  /** Insert or replace the record; `firstSeen` keeps the earliest value ever stored. */
  upsertDevice(rec: DeviceRecord): Promise<void>;
  /** All records, sorted by id. */
  devices(): Promise<DeviceRecord[]>;
  device(id: string): Promise<DeviceRecord | undefined>;
  /**
   * Delete raw points older than `before` (retention). Returns rows deleted.
   * With `maxRows`, one short step so a caller can prune in chunks without
   * blocking ingest: at most that many rows deleted, or (PostgreSQL) one whole
   * day's partition dropped, however many rows it held. Call until it returns 0.
   */
  prune(before: number, maxRows?: number): Promise<number>;
  /** Same as `prune` for hourly rollup rows whose hour starts before `before`. */
  pruneRollups(before: number, maxRows?: number): Promise<number>;
  close(): Promise<void>;
}
