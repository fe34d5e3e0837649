/**
 * Browser resume marks (docs/storage.md "Resume marks"; schema version 7 on
 * SQLite, 8 on PostgreSQL). Each telemetry push the browser fan-out numbers gets
 * one mark: (epoch, seq) → the device and the `ts` its points are stored under,
 * plus the hub time it went out. After a restart, a `sub` resuming from an older
 * epoch asks `boundary()` what that client had already seen, and the missed
 * messages are rebuilt from the points (transports/browser/rebuild.ts).
 *
 * As identities and alerts do, each backend has its own small connection, so a
 * mark write never queues behind telemetry batches. Marks are buffered and
 * written together, one transaction per flush (`flushMs`, default 50 ms), which
 * also raises the epoch's `hi` (highest seq whose mark is committed). Bounds:
 * at most `maxBuffered` marks wait (beyond it a mark is dropped, counted, and the
 * epoch's `floor` rises past it: no resume from before a hole); each epoch keeps
 * its last `maxMarks` (older ones pruned, `floor` raised); only the last
 * `keepEpochs` epochs are kept (older ones deleted at start).
 */
import { pgTransaction } from './pg-tx.js';
import type { Durability } from './types.js';
import { sidePool, sideSqlite } from './side-db.js';

export interface ResumeMarkOptions {
  flushMs?: number;
  maxBuffered?: number;
  maxMarks?: number;
  keepEpochs?: number;
}

/**
 * What a client at (epoch, since) had seen: per device, the newest stored ts of its
 * pushes with seq ≤ since; `at`: hub time of the last such push (at least the
 * epoch's start); `firstAfter`: per device, the oldest stored ts of its pushes after since.
 */
export interface ResumeBoundary {
  perDevice: Map<string, number>;
  at: number;
  firstAfter: Map<string, number>;
}

export interface ResumeMarks {
  /** Start recording `epoch` (call once, before `mark`). */
  begin(epoch: string, startedAt: number): Promise<void>;
  mark(seq: number, device: string, ts: number, at: number): void;
  /** Undefined when the marks cannot prove what was seen: unknown epoch, `since` above `hi` or at/below `floor`. */
  boundary(epoch: string, since: number): Promise<ResumeBoundary | undefined>;
  flush(): Promise<void>;
  stats(): { buffered: number; written: number; dropped: number; failed: number; floor: number; hi: number };
  close(): Promise<void>;
}

type Row = Record<string, unknown>;
interface Exec {
  rows(sql: string, args: unknown[]): Promise<Row[]>;
  /** Statements in one transaction. */
  tx(stmts: [string, unknown[]][]): Promise<void>;
  close(): Promise<void>;
}

function resumeMarks(x: Exec, o: ResumeMarkOptions): ResumeMarks {
  const flushMs = o.flushMs ?? 50, maxBuffered = o.maxBuffered ?? 50_000, maxMarks = o.maxMarks ?? 200_000, keep = o.keepEpochs ?? 4;
  let epoch: string | undefined;
  let buf: [number, string, number, number][] = [];
  let floor = 0, hi = 0, timer: ReturnType<typeof setTimeout> | undefined, running: Promise<void> = Promise.resolve();
  const st = { written: 0, dropped: 0, failed: 0 };

  const write = async (): Promise<void> => {
    if (!epoch || buf.length === 0) return;
    const batch = buf;
    buf = [];
    const top = batch[batch.length - 1]![0];
    if (top - maxMarks > floor) floor = top - maxMarks;
    const stmts: [string, unknown[]][] = batch.map(([seq, d, ts, at]) => ['INSERT INTO resume_marks (epoch, seq, device, ts, at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [epoch, seq, d, ts, at]]);
    stmts.push(['DELETE FROM resume_marks WHERE epoch = $1 AND seq <= $2', [epoch, floor]]);
    stmts.push(['UPDATE resume_epochs SET hi = $1, floor = $2 WHERE epoch = $3', [top, floor, epoch]]); // placeholders in order: SQLite's are `?`
    try {
      await x.tx(stmts);
      hi = top;
      st.written += batch.length;
    } catch {
      st.failed += batch.length; // lost marks: no resume from before them (floor), the client backfills
      floor = Math.max(floor, top);
    }
  };
  const flush = (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    return (running = running.then(write));
  };

  return {
    async begin(e, startedAt) {
      epoch = e;
      const old = await x.rows('SELECT epoch FROM resume_epochs ORDER BY started_at DESC, epoch', []);
      const stmts: [string, unknown[]][] = old.slice(Math.max(0, keep - 1)).flatMap((r) => [
        ['DELETE FROM resume_marks WHERE epoch = $1', [r.epoch]] as [string, unknown[]],
        ['DELETE FROM resume_epochs WHERE epoch = $1', [r.epoch]] as [string, unknown[]],
      ]);
      stmts.push(['INSERT INTO resume_epochs (epoch, started_at, floor, hi) VALUES ($1, $2, 0, 0) ON CONFLICT DO NOTHING', [e, startedAt]]);
      await x.tx(stmts);
    },
    mark(seq, device, ts, at) {
      if (!epoch) return;
      if (buf.length >= maxBuffered) {
        st.dropped++;
        floor = Math.max(floor, seq);
        return;
      }
      buf.push([seq, device, ts, at]);
      timer ??= setTimeout(() => void flush(), flushMs);
      timer.unref?.();
    },
    async boundary(e, since) {
      const ep = (await x.rows('SELECT floor, hi, started_at FROM resume_epochs WHERE epoch = $1', [e]))[0];
      if (!ep || since > Number(ep.hi) || since <= Number(ep.floor)) return undefined;
      const rows = await x.rows('SELECT device, MAX(ts) AS ts, MAX(at) AS at FROM resume_marks WHERE epoch = $1 AND seq <= $2 GROUP BY device', [e, since]);
      const perDevice = new Map(rows.map((r) => [String(r.device), Number(r.ts)]));
      const later = await x.rows('SELECT device, MIN(ts) AS ts FROM resume_marks WHERE epoch = $1 AND seq > $2 GROUP BY device', [e, since]);
      const firstAfter = new Map(later.map((r) => [String(r.device), Number(r.ts)]));
      return { perDevice, firstAfter, at: rows.reduce((m, r) => Math.max(m, Number(r.at)), Number(ep.started_at)) };
    },
    flush,
    stats: () => ({ buffered: buf.length, ...st, floor, hi }),
    async close() {
      await flush();
      await x.close();
    },
  };
}

export function sqliteResumeMarks(path: string, durability: Durability = 'process', o: ResumeMarkOptions = {}): ResumeMarks {
  const db = sideSqlite(path, durability);
  const q = (sql: string) => db.prepare(sql.replace(/\$\d+/g, '?'));
  const run = db.transaction((stmts: [string, unknown[]][]) => {
    for (const [sql, args] of stmts) q(sql).run(...args);
  });
  return resumeMarks({
    rows: async (sql, args) => q(sql).all(...args) as Row[],
    tx: async (stmts) => void run(stmts),
    close: async () => void db.close(),
  }, o);
}

export function postgresResumeMarks(url: string, schema?: string, o: ResumeMarkOptions = {}): ResumeMarks {
  const pool = sidePool(url, schema);
  return resumeMarks({
    rows: async (sql, args) => (await pool.query(sql, args)).rows as Row[],
    tx: (stmts) => pgTransaction(pool, async (c) => { for (const [sql, args] of stmts) await c.query(sql, args); }),
    close: () => pool.end(),
  }, o);
}
