/**
 * SQLite backend (better-sqlite3, WAL, synchronous=NORMAL, or FULL with
 * `durability: 'power'`), off the main thread.
 *
 * better-sqlite3 is synchronous, so the hub never calls it on its event loop:
 * a writer worker owns the connection that writes (migrations, appends, device
 * records, retention) and a reader worker answers queries on a second
 * connection (WAL lets it read while the writer writes). This thread only
 * validates, encodes batches into typed arrays (sqlite-protocol.ts) and awaits
 * replies. `:memory:` has one connection, so one worker does both.
 *
 * Write queue: appends waiting for the writer hold at most `maxPendingPoints`
 * points (default 200,000); beyond that `append` waits (backpressure, nothing
 * dropped here: ingest owns the drop policy and counts drops). The writer
 * commits queued batches together (group commit) and acknowledges each batch
 * after its commit, so a resolved `append` is durable against a process crash
 * (and, with `durability: 'power'`, against a power cut).
 *
 * The MQTT engine's state (`mqttState()`, mqtt-state.ts) goes through the same
 * writer: one writer per file, one `synchronous` setting for everything.
 */
import type { Bucket, DeviceRecord, HistoryQuery, Point, RangeQuery, RawPoint, Store } from './types.js';
import { streamRaw, checkDevice, checkPoints } from './common.js';
import { BatchEncoder, rowsOf } from './sqlite-protocol.js';
import { WorkerClient } from './sqlite-client.js';
import { BufferedState, type BufferOptions, type MqttStateStore } from './mqtt-state.js';
import { snapshotOf } from './mqtt-state-load.js';
import type { Durability } from './types.js';
import type { LinkWrite } from './link-sql.js';

export interface SqliteStoreOptions {
  /** Database file; parent directories are created. `:memory:` works for tools. */
  path: string;
  /** How long a write waits for another process's lock (default 5,000 ms). */
  busyTimeoutMs?: number;
  /** Most points committed in one transaction when batches queue up (default 100,000). */
  groupMaxPoints?: number;
  /** Most points queued for the writer before `append` waits (default 200,000). */
  maxPendingPoints?: number;
  /** `process` (default): synchronous=NORMAL; `power`: synchronous=FULL (docs/storage.md). */
  durability?: Durability;
}

export interface SqliteStoreStats {
  /** Points sent to the writer and not yet acknowledged. */
  pendingPoints: number;
  /** Appends that had to wait because the write queue was full. */
  waits: number;
  /** Writer workers started (more than 1: a worker died and was replaced). */
  writerStarts: number;
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly writer: WorkerClient;
  private readonly reader: WorkerClient;
  private readonly encoder = new BatchEncoder();
  private readonly maxPending: number;
  private pendingPoints = 0;
  private waits = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(opts: SqliteStoreOptions) {
    const base = { path: opts.path, synchronous: opts.durability === 'power' ? 'FULL' as const : 'NORMAL' as const, ...(opts.busyTimeoutMs !== undefined ? { busyTimeoutMs: opts.busyTimeoutMs } : {}) };
    this.writer = new WorkerClient({ ...base, role: 'writer', ...(opts.groupMaxPoints ? { groupMaxPoints: opts.groupMaxPoints } : {}) },
      () => this.encoder.reset());
    this.reader = opts.path === ':memory:' ? this.writer : new WorkerClient({ ...base, role: 'reader' });
    this.maxPending = Math.max(1, opts.maxPendingPoints ?? 200_000);
  }

  async init(): Promise<void> {
    await this.writer.start(); // migrations run here, before any reader opens
    if (this.reader !== this.writer) await this.reader.start();
  }

  stats(): SqliteStoreStats {
    return { pendingPoints: this.pendingPoints, waits: this.waits, writerStarts: this.writer.starts };
  }

  async append(points: readonly Point[], link?: LinkWrite): Promise<void> {
    checkPoints(points);
    if (points.length === 0 && !link) return;
    const n = points.length;
    if (this.pendingPoints > 0 && this.pendingPoints + n > this.maxPending) {
      this.waits++;
      do await new Promise<void>((r) => this.waiting.push(r));
      while (this.pendingPoints > 0 && this.pendingPoints + n > this.maxPending);
    }
    this.pendingPoints += n;
    try {
      await this.writer.call('append', () => {
        const { batch, transfer } = this.encoder.encode(points);
        return { arg: link ? { ...batch, link } : batch, transfer };
      });
    } finally {
      this.pendingPoints -= n;
      for (const w of this.waiting.splice(0)) w();
    }
  }

  /** The MQTT engine's durable store on this database (one per engine; shares the writer). */
  mqttState(opts: BufferOptions = {}): MqttStateStore {
    return new BufferedState({
      apply: (ops) => this.writer.call('mqttApply', () => ({ arg: ops })),
      load: async () => snapshotOf(await this.writer.call('mqttLoad', () => ({ arg: null }))),
    }, opts);
  }

  async raw(q: HistoryQuery): Promise<RawPoint[]> {
    const { device, metric, from, to, limit } = q;
    return rowsOf(await this.reader.call('raw', () => ({ arg: { device, metric, from, to, limit } })));
  }

  async buckets(q: HistoryQuery & { bucketMs: number }): Promise<Bucket[]> {
    if (!Number.isSafeInteger(q.bucketMs) || q.bucketMs <= 0) throw new RangeError(`invalid bucketMs ${q.bucketMs}`);
    const { device, metric, from, to, limit, bucketMs } = q;
    return this.reader.call('buckets', () => ({ arg: { device, metric, from, to, limit, bucketMs } }));
  }

  async *stream(q: RangeQuery, opts: { chunkSize?: number } = {}): AsyncIterable<RawPoint[]> {
    yield* streamRaw((r) => this.raw(r), q, opts.chunkSize);
  }

  async count(q: RangeQuery): Promise<number> {
    return this.reader.call('count', () => ({ arg: { device: q.device, metric: q.metric, from: q.from, to: q.to } }));
  }

  /** Raw points only (rollups of pruned hours not counted): what a raw answer would return. */
  async countRaw(q: RangeQuery): Promise<number> {
    return this.reader.call('count', () => ({ arg: { device: q.device, metric: q.metric, from: q.from, to: q.to, rawOnly: true } }));
  }

  async metrics(device: string): Promise<string[]> {
    return this.reader.call('metrics', () => ({ arg: device }));
  }

  async upsertDevice(rec: DeviceRecord): Promise<void> {
    checkDevice(rec);
    return this.writer.call('upsertDevice', () => ({ arg: rec }));
  }

  async devices(): Promise<DeviceRecord[]> {
    return this.reader.call('devices', () => ({ arg: null }));
  }

  async device(id: string): Promise<DeviceRecord | undefined> {
    return this.reader.call('device', () => ({ arg: id }));
  }

  async prune(before: number, maxRows?: number): Promise<number> {
    return this.writer.call('prune', () => ({ arg: { before, ...(maxRows !== undefined ? { maxRows } : {}) } }));
  }

  async pruneRollups(before: number, maxRows?: number): Promise<number> {
    return this.writer.call('pruneRollups', () => ({ arg: { before, ...(maxRows !== undefined ? { maxRows } : {}) } }));
  }

  /** Waits for every append already sent, then closes both connections. */
  async close(): Promise<void> {
    if (this.reader !== this.writer) await this.reader.close();
    await this.writer.close();
  }
}
