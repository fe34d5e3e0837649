/**
 * The chart data of one device view: a Series per metric for one time window,
 * loaded from history and continued live.
 *
 * Order of loading (the seam contract of series.ts and ranges.ts):
 *  1. listen to the device's telemetry (devices.ts fans it out) and buffer it;
 *  2. once the hub subscriptions are active, load every metric's history;
 *  3. replay the buffer into the series (dedupe drops what history already had),
 *     then add live readings as they come.
 * After a reconnect, raw series backfill [downSince − 2 s, now] from history
 * (inserted in order, deduped by ts); bucketed series reload the whole window.
 */
import { client, onReconnect } from './connection.js';
import { onTelemetry, ready, type Reading } from './devices.js';
import { notify } from './notices.js';
import { loadPlan, PAGE, type HistoryParams, type Window } from './ranges.js';
import { Series, type Bucket } from './series.js';
import { schedule, Store } from './store.js';
import { expose } from './testhooks.js';

type HistoryAnswer = { bucketMs: null; points: { ts: number; value: number }[] } | { bucketMs: number; buckets: Bucket[] };

export interface LoadState { loading: boolean; error?: string; points: number }

/** Raw points of [from, to], following pages until one comes back short. */
async function rawPoints(q: HistoryParams, onPage: (p: { ts: number; value: number }[]) => void): Promise<void> {
  let from = q.from;
  for (;;) {
    const r = await client.history<HistoryAnswer>({ ...q, from, limit: PAGE });
    if (r.bucketMs !== null) throw new Error('hub answered buckets to a raw query');
    onPage(r.points);
    if (r.points.length < PAGE) return;
    from = r.points[r.points.length - 1]!.ts + 1;
    if (from > q.to) return;
  }
}

export class DeviceSeries {
  series = new Map<string, Series>();
  readonly state = new Store<LoadState>({ loading: true, points: 0 });
  private buffer: Reading[] | null = [];
  private readonly frameListeners = new Set<() => void>();
  private scheduled = false;
  private generation = 0;
  private readonly offs: (() => void)[] = [];

  constructor(readonly device: string, readonly metrics: string[], readonly window: Window) {}

  start(): void {
    this.offs.push(onTelemetry(this.device, (r) => this.onReading(r)));
    this.offs.push(onReconnect((downSince) => void this.afterReconnect(downSince)));
    expose('chart', { device: this.device, times: (metric: string) => [...(this.series.get(metric)?.x ?? [])] });
    void this.load();
  }

  stop(): void {
    this.generation++;
    this.offs.splice(0).forEach((off) => off());
    this.frameListeners.clear();
  }

  /** Called at most once per animation frame after data changed. */
  onFrame(fn: () => void): () => void {
    this.frameListeners.add(fn);
    return () => this.frameListeners.delete(fn);
  }

  get live(): boolean {
    return this.window.to === null;
  }

  private changed(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    schedule(() => {
      this.scheduled = false;
      if (this.window.slidingMs !== null) for (const s of this.series.values()) s.trimBefore(Date.now() - this.window.slidingMs);
      for (const fn of this.frameListeners) fn();
    });
  }

  private onReading(r: Reading): void {
    if (!this.live) return;
    if (this.buffer) {
      this.buffer.push(r);
      return;
    }
    for (const [m, s] of this.series) if (m in r.values) s.add(r.ts, r.values[m]!);
    this.changed();
  }

  private async load(): Promise<void> {
    const gen = ++this.generation;
    this.buffer = [];
    this.state.set({ loading: true, points: 0 });
    try {
      await ready;
      const now = Date.now();
      const win = this.window.slidingMs !== null ? { ...this.window, from: now - this.window.slidingMs } : this.window;
      const loaded = await Promise.all(this.metrics.map(async (metric) => {
        const plan = loadPlan(this.device, metric, win, now);
        const s = new Series(win.bucketMs);
        if (plan.buckets) {
          const r = await client.history<HistoryAnswer>(plan.buckets);
          s.loadBuckets(r.bucketMs === null ? r.points.map((p) => ({ ts: p.ts, min: p.value, max: p.value, avg: p.value, count: 1, last: p.value })) : r.buckets, plan.sealedTo);
        }
        if (plan.raw) await rawPoints(plan.raw, (page) => page.forEach((p) => s.add(p.ts, p.value)));
        return [metric, s] as const;
      }));
      if (gen !== this.generation) return;
      this.series = new Map(loaded);
      const buffered = this.buffer ?? [];
      this.buffer = null;
      for (const r of buffered) for (const [m, s] of this.series) if (m in r.values) s.add(r.ts, r.values[m]!);
      this.state.set({ loading: false, points: [...this.series.values()].reduce((n, s) => n + s.length, 0) });
    } catch (e) {
      if (gen !== this.generation) return;
      this.buffer = null;
      this.state.set({ loading: false, error: String((e as Error).message ?? e), points: 0 });
      notify(`Loading history of ${this.device} failed`, e);
    }
    this.changed();
  }

  private async afterReconnect(downSince: number): Promise<void> {
    if (!this.live) return;
    if (this.window.bucketMs !== null || this.state.get().loading) return void this.load();
    const gen = this.generation;
    const now = Date.now();
    try {
      for (const [metric, s] of this.series) {
        await rawPoints({ device: this.device, metric, from: Math.max(downSince - 2000, now - (this.window.slidingMs ?? now)), to: now, limit: PAGE }, (page) => {
          if (gen === this.generation) page.forEach((p) => s.add(p.ts, p.value));
        });
      }
    } catch (e) {
      notify(`Backfilling ${this.device} after the reconnect failed`, e);
    }
    this.changed();
  }
}
