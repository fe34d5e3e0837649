/**
 * What the main thread and the SQLite worker threads exchange. Batches are
 * columns (typed arrays, transferred, not copied) plus the few series names
 * the worker has not seen yet: a point costs 20 bytes on the wire and no
 * object allocation on either side.
 *
 * Series dictionary: the main thread numbers each (device, metric) the first
 * time it sends it (index, not the database id, which only the writer knows)
 * and ships the names once, in the batch that first uses them. The worker
 * keeps index → names → database id. A new writer (after a crash) starts a
 * new dictionary, so the encoder is reset with it.
 */
import type { Bucket, DeviceRecord, Point, RawPoint } from './types.js';
import { seriesKey } from './common.js';
import type { StateOp } from './mqtt-state.js';
import type { StateRows } from './mqtt-state-sqlite.js';
import type { LinkWrite } from './link-sql.js';

export interface ColumnBatch {
  /** Dictionary indexes firstNew, firstNew + 1, … are introduced by this batch. */
  firstNew: number;
  newNames: [device: string, metric: string][];
  series: Int32Array;
  ts: Float64Array;
  values: Float64Array;
  /** Link rows committed with these points (structured-cloned; storage/link-sql.ts). */
  link?: LinkWrite;
}

export interface RawColumns {
  ts: Float64Array;
  values: Float64Array;
}

export interface SeriesQuery {
  device: string;
  metric: string;
  from: number;
  to: number;
}

/** Operations a worker answers, with their argument and result types. */
export interface Ops {
  append: [ColumnBatch, void];
  raw: [SeriesQuery & { limit: number }, RawColumns];
  buckets: [SeriesQuery & { limit: number; bucketMs: number }, Bucket[]];
  count: [SeriesQuery & { rawOnly?: boolean }, number];
  metrics: [string, string[]];
  upsertDevice: [DeviceRecord, void];
  devices: [null, DeviceRecord[]];
  device: [string, DeviceRecord | undefined];
  prune: [{ before: number; maxRows?: number }, number];
  pruneRollups: [{ before: number; maxRows?: number }, number];
  /** Writer: one batch of MQTT engine state records, one transaction (mqtt-state-sqlite.ts). */
  mqttApply: [StateOp[], void];
  mqttLoad: [null, StateRows];
  close: [null, void];
}
export type Op = keyof Ops;

export interface Request<K extends Op = Op> { id: number; op: K; arg: Ops[K][0] }
export type Reply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { name: string; message: string; code?: string } };

/** Options a worker starts with (workerData). */
export interface WorkerInit {
  path: string;
  role: 'writer' | 'reader';
  busyTimeoutMs?: number;
  /** PRAGMA synchronous (--durability): NORMAL (default) or FULL. */
  synchronous?: 'NORMAL' | 'FULL';
  /** Writer: most points committed in one transaction when batches queue up. */
  groupMaxPoints?: number;
}

/** Main-thread side of the dictionary. */
export class BatchEncoder {
  private readonly index = new Map<string, number>();

  encode(points: readonly Point[]): { batch: ColumnBatch; transfer: ArrayBuffer[] } {
    const n = points.length;
    const series = new Int32Array(n), ts = new Float64Array(n), values = new Float64Array(n);
    const firstNew = this.index.size;
    const newNames: [string, string][] = [];
    for (let i = 0; i < n; i++) {
      const p = points[i]!;
      const key = seriesKey(p.device, p.metric);
      let k = this.index.get(key);
      if (k === undefined) {
        k = this.index.size;
        this.index.set(key, k);
        newNames.push([p.device, p.metric]);
      }
      series[i] = k;
      ts[i] = p.ts;
      values[i] = p.value;
    }
    return { batch: { firstNew, newNames, series, ts, values }, transfer: [series.buffer, ts.buffer, values.buffer] as ArrayBuffer[] };
  }

  /** Forget everything: the worker that knew the dictionary is gone. */
  reset(): void {
    this.index.clear();
  }
}

export function rowsOf(c: RawColumns): RawPoint[] {
  const out = new Array<RawPoint>(c.ts.length);
  for (let i = 0; i < c.ts.length; i++) out[i] = { ts: c.ts[i]!, value: c.values[i]! };
  return out;
}
