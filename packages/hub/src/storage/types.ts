/**
 * The store: telemetry points, history queries and the device registry.
 * Backends: SQLite (default, embedded) and PostgreSQL. `storage/index.ts` is the
 * only file that picks one; test/store-contract.ts runs against both.
 *
 * Times are ms since the Unix epoch (UTC). Device and metric names are opaque
 * strings and reach SQL only as parameters.
 */
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
  /** Maximum points (raw) or buckets returned. */
  limit: number;
  /** Omit for raw points; otherwise aggregate into buckets of this width. */
  bucketMs?: number;
}

export interface DeviceRecord {
  id: string;
  firstSeen: number;
  lastSeen: number;
  online: boolean;
  /** Last value of every field of the last telemetry, numeric or not, with its time. */
  last: Record<string, { value: unknown; ts: number }>;
  meta: unknown;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** Apply migrations; idempotent. */
  init(): Promise<void>;
  /** Append a batch atomically (one transaction). */
  append(points: readonly Point[]): Promise<void>;
  raw(q: HistoryQuery): Promise<RawPoint[]>;
  buckets(q: HistoryQuery & { bucketMs: number }): Promise<Bucket[]>;
  /** Streams raw points in time order without holding the range in memory (CSV export). */
  stream(q: Omit<HistoryQuery, 'limit' | 'bucketMs'>): AsyncIterable<RawPoint[]>;
  /** Number of raw points in the range (used to pick a bucket so answers stay under `limit`). */
  count(q: Omit<HistoryQuery, 'limit' | 'bucketMs'>): Promise<number>;
  metrics(device: string): Promise<string[]>;
  upsertDevice(rec: DeviceRecord): Promise<void>;
  devices(): Promise<DeviceRecord[]>;
  device(id: string): Promise<DeviceRecord | undefined>;
  /** Delete raw points older than `before` (retention). Returns rows deleted. */
  prune(before: number): Promise<number>;
  close(): Promise<void>;
}
