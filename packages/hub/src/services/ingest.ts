/**
 * Ingest: `devices/+/telemetry` on the bus → points in the store.
 *
 * Each numeric field of a telemetry object becomes a point (other fields are
 * ignored here; the registry keeps them as "last"). Its time is the payload's
 * `ts` when that is sane (within `maxPastMs` before / `maxFutureMs` after hub
 * time), else the bus receive time.
 *
 * Group commit: the bus handler only queues (bus contract 5: handlers must not
 * block). A writer takes up to `batchMaxPoints` per `store.append`, starting
 * `batchMs` after the first point when idle, immediately when a batch is full or
 * a write finishes with points waiting. Up to `maxInFlight` appends (default 8)
 * are pending at once, so a store that commits queued batches together (the
 * SQLite writer thread does) gets large transactions while this thread keeps
 * taking messages. Batches are handed to the store in arrival order; while a
 * write is failing no new one starts, so at most the ones already in flight can
 * overtake a retried batch.
 *
 * Acknowledged messages (bus contract 7, bus/hold.ts): a telemetry message with
 * `hold` (QoS ≥ 1 on the core engine, the device door's acked frames) gets a
 * commit promise: one per batch cut, shared by the messages accepted since the
 * last cut, resolved when all their points are committed. Such a message is
 * refused, never acknowledged and dropped: NotStored 'full' when the queue is
 * full, 'failed' when its batch's write fails (the batch is still retried: a
 * resend is harmless, history is idempotent on (device, metric, ts)) and at
 * once while a write is failing (it is not queued: the publisher resends).
 *
 * Full-queue policy: the queue (including the batch being written) holds at most
 * `queueMaxPoints`; a message that does not fit is dropped whole, its points
 * counted in `stats().dropped` (newest are dropped, what was accepted keeps its
 * order). A failed write is retried with exponential backoff (`retryBaseMs` …
 * `retryMaxMs`) until it succeeds; a RangeError (invalid point) is not retried.
 * `stop()` unsubscribes, then writes everything queued; if the store still fails
 * after `stopTimeoutMs`, the rest is counted as dropped and `stop()` resolves.
 *
 * Series bounds (docs/security.md, "Bounds"): a message past the shape bounds
 * (bus/shape.ts) is refused whole (`stats().refused`); each device gets at most
 * `maxMetricsPerDevice` metric names and at most `maxDevices` devices get any,
 * counted from this start (points of other names: `stats().overCap`), so one
 * device cannot grow the store's series table without end.
 */
import { parseDeviceTopic } from '@fieldlink/protocol';
import type { Bus, BusMessage, Subscription } from '../bus/types.js';
import { Commit, NotStored } from '../bus/hold.js';
import { NOT_JSON, jsonOf } from '../bus/json.js';
import { busShapeProblem, type ShapeLimits } from '../bus/shape.js';
import type { Point, Store } from '../storage/types.js';
import { DEFAULT_REGISTRY_LIMITS } from './registry.js';

export interface IngestOptions {
  batchMs?: number;
  batchMaxPoints?: number;
  /** Appends pending at once (default 8). 1 restores strictly one write at a time. */
  maxInFlight?: number;
  queueMaxPoints?: number;
  maxPastMs?: number;
  maxFutureMs?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  stopTimeoutMs?: number;
  /** Payload shape bounds; the registry's defaults when absent. */
  shape?: ShapeLimits;
  maxMetricsPerDevice?: number;
  maxDevices?: number;
  now?: () => number;
  /** Called for every failed write (it is retried) and every rejected batch. */
  onError?: (err: unknown) => void;
}

export interface IngestStats {
  /** Points accepted and not yet written (queue + batch in flight). */
  queued: number;
  written: number;
  /** Points refused because the queue was full, or lost at a stop whose store kept failing. */
  dropped: number;
  /** Held (acknowledged) messages refused: queue full, store failing, stopped. Their publishers resend. */
  notStored: number;
  /** Telemetry messages that were not a JSON object. */
  rejected: number;
  /** Telemetry messages past a shape bound (depth, keys). */
  refused: number;
  /** Points not written because their device or metric name is past --max-devices / --max-metrics-per-device. */
  overCap: number;
  batches: number;
  retries: number;
  lastError: string | null;
}

export interface Ingest {
  stats(): IngestStats;
  /** Resolves when every point accepted before the call is written (or dropped). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

const YEAR = 365 * 86_400_000;

/** Metric names: 1–128 UTF-16 units, no control characters (they would poison CSV, logs and SQL text). */
function goodMetric(name: string): boolean {
  if (name.length === 0 || name.length > 128) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return false;
  }
  return true;
}

/** Points of one telemetry payload, or undefined if it is not a JSON object. */
export function telemetryPoints(device: string, payload: Buffer | string, busTs: number, now: number,
  window: { maxPastMs?: number; maxFutureMs?: number } = {}, parsed?: unknown): Point[] | undefined {
  let obj: unknown = parsed;
  if (obj === undefined) {
    try {
      obj = JSON.parse(payload.toString());
    } catch {
      return undefined;
    }
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return undefined;
  const rec = obj as Record<string, unknown>;
  const t = rec.ts;
  const sane = typeof t === 'number' && t >= now - (window.maxPastMs ?? YEAR) && t <= now + (window.maxFutureMs ?? 60_000);
  const ts = Math.round(sane ? t : busTs);
  const points: Point[] = [];
  for (const [metric, value] of Object.entries(rec)) {
    if (metric !== 'ts' && typeof value === 'number' && Number.isFinite(value) && goodMetric(metric)) points.push({ device, metric, ts, value });
  }
  return points;
}

/** The bounded queue and its writer; exported so its policy is testable without a bus. */
export class IngestQueue {
  private chunks: Point[][] = [];
  /** The commit each chunk's message is held on (null: not held), parallel to `chunks`. */
  private owners: (Commit | null)[] = [];
  /** The commit of held messages accepted since the last batch cut. */
  private open: Commit | null = null;
  /** Commits not yet settled (failed all at once by an abandoning stop()). */
  private readonly live = new Set<Commit>();
  /** Points in `chunks` (accepted, not yet handed to a write). */
  private waiting = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly wakers = new Set<() => void>();
  private failing = 0;
  private closing = false;
  private abandoned = false;
  private readonly s: IngestStats = { queued: 0, written: 0, dropped: 0, notStored: 0, rejected: 0, refused: 0, overCap: 0, batches: 0, retries: 0, lastError: null };
  private readonly batchMs: number;
  private readonly batchMax: number;
  private readonly queueMax: number;
  private readonly maxInFlight: number;

  constructor(private readonly store: Store, private readonly opts: IngestOptions = {}) {
    this.batchMs = opts.batchMs ?? 10;
    this.batchMax = Math.max(1, opts.batchMaxPoints ?? 5000);
    this.queueMax = Math.max(1, opts.queueMaxPoints ?? 100_000);
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 8);
  }

  stats(): IngestStats {
    return { ...this.s };
  }

  reject(): void {
    this.s.rejected++;
  }

  refuse(): void {
    this.s.refused++;
  }

  overCap(points: number): void {
    this.s.overCap += points;
  }

  /** Queue the points of one message, all or none. Returns false if they were dropped. */
  push(points: Point[]): boolean {
    if (points.length === 0) return true;
    if (this.closing || this.s.queued + points.length > this.queueMax) {
      this.s.dropped += points.length;
      return false;
    }
    this.enqueue(points, null);
    return true;
  }

  /**
   * Queue the points of one acknowledged message: the promise resolves when they
   * are committed, rejects with a NotStored when they will not be (not queued then).
   */
  pushHeld(points: Point[]): Promise<void> {
    let why: NotStored | null = null;
    if (this.closing) why = new NotStored('failed', 'ingest is stopping');
    else if (this.failing > 0) why = new NotStored('failed', `store failing: ${this.s.lastError ?? 'write error'}`);
    else if (this.s.queued + points.length > this.queueMax) why = new NotStored('full', 'ingest queue full');
    if (why !== null) {
      this.s.notStored++;
      const p = Promise.reject(why);
      p.catch(() => undefined);
      return p;
    }
    let c = this.open;
    if (c === null) { c = this.open = new Commit(); this.live.add(c); }
    c.addPart();
    this.enqueue(points, c);
    return c.promise;
  }

  private enqueue(points: Point[], owner: Commit | null): void {
    this.chunks.push(points);
    this.owners.push(owner);
    this.waiting += points.length;
    this.s.queued += points.length;
    if (this.waiting >= this.batchMax) this.kick();
    else if (!this.timer && this.inFlight.size === 0) this.timer = setTimeout(() => this.kick(), this.batchMs);
  }

  /**
   * Start writes while there are points, free slots and no failing write: one per
   * macrotask. Completions arrive together (the store commits a group at once), and
   * starting them all in one go would build several batches in one long task.
   */
  private kick(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.waiting === 0 || this.abandoned || this.failing > 0 || this.inFlight.size >= this.maxInFlight) return;
    const commits: Commit[] = [];
    const w: Promise<void> = this.write(this.take(commits), commits).finally(() => {
      this.inFlight.delete(w);
      // Points pushed while this write ran saw a writer busy and set no timer.
      if (this.waiting > 0 && !this.abandoned) this.kickSoon();
    });
    this.inFlight.add(w);
    if (this.waiting > 0) this.kickSoon();
  }

  private kickScheduled = false;

  private kickSoon(): void {
    if (this.kickScheduled) return;
    this.kickScheduled = true;
    setImmediate(() => {
      this.kickScheduled = false;
      this.kick();
    });
  }

  /** The next batch; `commits` gets one entry per held part in it. Cuts the open commit. */
  private take(commits: Commit[]): Point[] {
    this.open = null;
    const batch: Point[] = [];
    while (batch.length < this.batchMax && this.chunks.length > 0) {
      const c = this.chunks[0]!;
      const owner = this.owners[0]!;
      const n = Math.min(c.length, this.batchMax - batch.length);
      batch.push(...(n === c.length ? c : c.slice(0, n)));
      if (owner !== null) commits.push(owner);
      if (n === c.length) { this.chunks.shift(); this.owners.shift(); }
      else { this.chunks[0] = c.slice(n); owner?.addPart(); }
    }
    this.waiting -= batch.length;
    return batch;
  }

  private settle(commits: Commit[], err: NotStored | null): void {
    for (const c of commits) {
      if (err !== null) c.fail(err);
      else c.partDone();
      if (c.settled) this.live.delete(c);
    }
  }

  private async write(batch: Point[], commits: Commit[]): Promise<void> {
    let failed = false;
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          await this.store.append(batch);
          if (this.abandoned) return; // already counted as dropped by stop()
          this.settle(commits, null);
          this.s.written += batch.length;
          this.s.batches++;
          this.s.queued -= batch.length;
          return;
        } catch (err) {
          this.s.lastError = err instanceof Error ? err.message : String(err);
          this.opts.onError?.(err);
          if (this.abandoned) return;
          this.settle(commits, new NotStored('failed', `store write failed: ${this.s.lastError}`)); // refused now; the retry may still land them
          if (err instanceof RangeError) { // retrying an invalid batch cannot succeed
            this.s.dropped += batch.length;
            this.s.queued -= batch.length;
            return;
          }
          if (!failed) { failed = true; this.failing++; }
          this.s.retries++;
          const delay = Math.min((this.opts.retryBaseMs ?? 100) * 2 ** attempt, this.opts.retryMaxMs ?? 5000);
          await new Promise<void>((resolve) => {
            const wake = () => { clearTimeout(t); this.wakers.delete(wake); resolve(); };
            const t = setTimeout(wake, delay);
            this.wakers.add(wake);
          });
        }
      }
    } finally {
      if (failed) this.failing--;
    }
  }

  async flush(): Promise<void> {
    while (this.s.queued > 0 && !this.abandoned) {
      this.kick();
      await Promise.all(this.inFlight);
    }
  }

  /** Refuse new points, write the queued ones; give up after `stopTimeoutMs`. */
  async stop(): Promise<void> {
    this.closing = true;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), this.opts.stopTimeoutMs ?? 10_000); });
    const done = await Promise.race([this.flush().then(() => 'done' as const), deadline]);
    clearTimeout(timer);
    if (done === 'timeout') {
      this.abandoned = true;
      for (const wake of [...this.wakers]) wake();
      this.s.dropped += this.s.queued;
      this.s.lastError = `stopped with ${this.s.queued} points unwritten: ${this.s.lastError ?? 'store too slow'}`;
      this.s.queued = 0;
      this.chunks = [];
      this.owners = [];
      this.waiting = 0;
      const gone = new NotStored('failed', this.s.lastError);
      for (const c of this.live) c.fail(gone);
      this.live.clear();
    }
  }
}

/** Metric names admitted per device: at most `maxPerDevice` each, for at most `maxDevices` devices. */
export class SeriesNames {
  private readonly byDevice = new Map<string, Set<string>>();
  constructor(private readonly maxDevices: number, private readonly maxPerDevice: number) {}

  admit(device: string, metric: string): boolean {
    let names = this.byDevice.get(device);
    if (!names) {
      if (this.byDevice.size >= this.maxDevices) return false;
      this.byDevice.set(device, (names = new Set()));
    }
    if (names.has(metric)) return true;
    if (names.size >= this.maxPerDevice) return false;
    names.add(metric);
    return true;
  }
}

/** Subscribe to telemetry and feed the queue. Resolves once the subscription is active. */
export async function startIngest(bus: Bus, store: Store, opts: IngestOptions = {}): Promise<Ingest> {
  const queue = new IngestQueue(store, opts);
  const now = opts.now ?? Date.now;
  const shape = opts.shape ?? DEFAULT_REGISTRY_LIMITS;
  const names = new SeriesNames(opts.maxDevices ?? DEFAULT_REGISTRY_LIMITS.maxDevices, opts.maxMetricsPerDevice ?? DEFAULT_REGISTRY_LIMITS.maxMetricsPerDevice);
  const onMessage = (msg: BusMessage) => {
    const t = parseDeviceTopic(msg.topic);
    if (t?.kind !== 'telemetry') return;
    if (busShapeProblem(msg, shape)) return queue.refuse();
    const parsed = jsonOf(msg);
    if (parsed === NOT_JSON) return queue.reject();
    const points = telemetryPoints(t.device, msg.payload, msg.ts, now(), opts, parsed);
    if (points === undefined) return queue.reject();
    const kept = points.filter((p) => names.admit(p.device, p.metric));
    if (kept.length < points.length) queue.overCap(points.length - kept.length);
    if (msg.hold !== undefined && msg.qos > 0 && kept.length > 0) msg.hold(queue.pushHeld(kept));
    else queue.push(kept);
  };
  // retained: false — a retained telemetry message is old data, already ingested when it was live.
  // shareGroup: hubs on one external broker split the telemetry, so each point is written once.
  const sub: Subscription = await bus.subscribe('devices/+/telemetry', onMessage, { retained: false, shareGroup: 'fieldlink-ingest' });
  let stopping: Promise<void> | undefined;
  return {
    stats: () => queue.stats(),
    flush: () => queue.flush(),
    stop: () => (stopping ??= sub.unsubscribe().catch(() => undefined).then(() => queue.stop())),
  };
}
