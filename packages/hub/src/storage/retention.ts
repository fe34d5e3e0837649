/**
 * Retention: a periodic job that prunes raw points older than `rawDays` and
 * hourly rollups older than `rollupDays`. It deletes in chunks of `chunkRows`
 * (or, with PostgreSQL, drops one day's partition per step), each its own short
 * transaction, pausing `pauseMs` between steps so ingest batches interleave
 * (SQLite has one writer; a long delete would stall them).
 */
import type { Store } from './types.js';

export interface RetentionOptions {
  /** Keep raw points this many days (default 30; 0 keeps them forever). */
  rawDays?: number;
  /** Keep hourly rollups this many days (default 730; 0 keeps them forever). */
  rollupDays?: number;
  /** Time between passes (default 1 h). The first pass runs right after start. */
  intervalMs?: number;
  /** Rows per delete (default 5,000). */
  chunkRows?: number;
  /** Pause between chunks (default 10 ms). */
  pauseMs?: number;
}

export interface RetentionJob {
  /** Run one pass now (waits for a running one first). Resolves to rows deleted. */
  runOnce(): Promise<{ points: number; rollups: number }>;
  /** Stop the timer; a running pass ends after its current chunk. */
  stop(): Promise<void>;
}

const DAY = 86_400_000;

export function startRetention(
  store: Store,
  opts: RetentionOptions & { now?: () => number; onError?: (err: unknown) => void } = {},
): RetentionJob {
  const rawDays = opts.rawDays ?? 30;
  const rollupDays = opts.rollupDays ?? 730;
  const chunk = Math.max(1, opts.chunkRows ?? 5000);
  const pauseMs = opts.pauseMs ?? 10;
  const now = opts.now ?? Date.now;
  let stopped = false;
  let running: Promise<{ points: number; rollups: number }> = Promise.resolve({ points: 0, rollups: 0 });

  const drain = async (prune: (before: number, max: number) => Promise<number>, before: number): Promise<number> => {
    let total = 0;
    for (;;) {
      const n = await prune(before, chunk);
      total += n;
      if (n === 0 || stopped) return total; // not `n < chunk`: a dropped partition may hold fewer rows than a chunk
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  };

  const pass = async () => {
    const t = now();
    const points = rawDays > 0 ? await drain((b, m) => store.prune(b, m), t - rawDays * DAY) : 0;
    const rollups = rollupDays > 0 ? await drain((b, m) => store.pruneRollups(b, m), t - rollupDays * DAY) : 0;
    return { points, rollups };
  };

  const runOnce = () => {
    running = running.catch(() => undefined).then(pass);
    return running;
  };

  const tick = () => {
    if (stopped) return;
    runOnce().catch((err: unknown) => opts.onError?.(err));
  };
  const timer = setInterval(tick, opts.intervalMs ?? 3_600_000);
  timer.unref();
  setImmediate(tick);

  return {
    runOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running.catch(() => undefined);
    },
  };
}
