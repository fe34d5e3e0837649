/**
 * Log summaries for events a client can repeat at will (refused publishes,
 * failed authentications): one client must not be able to fill the disk or stall
 * the event loop with log lines. The first occurrence of a key is logged as it
 * happens; later ones within the interval are only counted, and at the end of
 * the interval one line per key says how many there were (`repeated`), with
 * the fields of the last one. A key quiet for a whole interval is forgotten, so
 * its next occurrence is logged at once again.
 *
 * Bounded: at most `maxKeys` keys are tracked; occurrences of further keys
 * are counted under one overflow line. `suppressed` counts lines not written
 * (`fieldlink_log_suppressed_total`).
 *
 *   const s = new LogSummary(log, { intervalMs: 10_000 });
 *   s.warn(`denied:${door}:${who}`, { door, who, topic }, 'denied');
 *   s.close(); // at shutdown: writes what is pending
 */
import type { Logger } from './log.js';

type Level = 'warn' | 'info' | 'error';

interface Entry {
  level: Level;
  msg: string;
  fields: Record<string, unknown>;
  count: number;
}

export interface LogSummaryOptions {
  intervalMs: number;
  /** Keys tracked at once (default 1000). */
  maxKeys?: number;
}

export const OVERFLOW_KEY = '(other keys)';

export class LogSummary {
  /** Occurrences counted instead of logged, over the summariser's life. */
  suppressed = 0;
  private readonly entries = new Map<string, Entry>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly maxKeys: number;

  constructor(private readonly log: Logger, private readonly opts: LogSummaryOptions) {
    this.maxKeys = Math.max(1, opts.maxKeys ?? 1000);
  }

  warn(key: string, fields: Record<string, unknown>, msg: string): void {
    this.note('warn', key, fields, msg);
  }

  note(level: Level, key: string, fields: Record<string, unknown>, msg: string): void {
    let e = this.entries.get(key);
    if (e === undefined && this.entries.size >= this.maxKeys) {
      key = OVERFLOW_KEY;
      e = this.entries.get(key);
      if (e === undefined) {
        // The overflow line always summarises: its first occurrence is not logged on its own.
        this.entries.set(key, { level, msg: 'more repeated events of other kinds', fields: {}, count: 1 });
        this.suppressed++;
        return;
      }
    }
    if (e === undefined) {
      this.log[level](fields, msg);
      this.entries.set(key, { level, msg, fields, count: 0 });
      this.timer ??= this.start();
      return;
    }
    e.count++;
    if (key !== OVERFLOW_KEY) e.fields = fields;
    this.suppressed++;
  }

  /** Write one summary line per key counted since the last flush; forget keys with none. */
  flush(): void {
    for (const [key, e] of this.entries) {
      if (e.count === 0) {
        this.entries.delete(key);
        continue;
      }
      this.log[e.level]({ ...e.fields, repeated: e.count, intervalMs: this.opts.intervalMs }, `${e.msg} (repeated)`);
      e.count = 0;
      if (key === OVERFLOW_KEY) this.entries.delete(key);
    }
    if (this.entries.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  close(): void {
    this.flush();
    clearInterval(this.timer);
    this.timer = undefined;
    this.entries.clear();
  }

  private start(): ReturnType<typeof setInterval> {
    const t = setInterval(() => this.flush(), this.opts.intervalMs);
    t.unref?.();
    return t;
  }
}
