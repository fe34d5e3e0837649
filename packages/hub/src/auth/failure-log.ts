/**
 * Failed and refused authentications, logged as counted summaries so a client
 * that hammers a door cannot flood the log: per door, address and code, the
 * first failure of an interval is logged as it happens; the rest are counted,
 * and one summary line per key with its count follows at the end of the
 * interval. At most `maxKeys` keys per interval; further addresses share one
 * `*` key per door and code. Every failure is counted for /metrics
 * (`fieldlink_auth_failures_total{door,code}`), logged or not.
 */
import type { Logger } from '../log.js';

interface Pending { first: Record<string, unknown>; more: number }

export class FailureLog {
  /** `door:code` → failures ever (the metric). */
  readonly counts: Record<string, number> = {};
  /** Failures that were folded into a summary instead of a line of their own. */
  folded = 0;
  private keys = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: Logger,
    readonly intervalMs = 10_000,
    readonly maxKeys = 1000,
  ) {}

  /** One failed or refused attempt; `fields` (device, client id…) are logged with the first of its interval. */
  record(door: string, remote: string, code: string, fields: Record<string, unknown> = {}): void {
    const counted = `${door}:${code}`;
    this.counts[counted] = (this.counts[counted] ?? 0) + 1;
    let key = `${door}|${remote}|${code}`;
    if (!this.keys.has(key) && this.keys.size >= this.maxKeys) key = `${door}|*|${code}`;
    const p = this.keys.get(key);
    if (p) {
      p.more++;
      this.folded++;
      return;
    }
    const first = { door, remote: key.split('|')[1], code, ...fields };
    this.keys.set(key, { first, more: 0 });
    this.log.warn(first, 'authentication failed');
    this.timer ??= setTimeout(() => this.flush(), this.intervalMs).unref();
  }

  /** Write the summaries of the interval that ends now. */
  flush(): void {
    this.timer = undefined;
    const keys = this.keys;
    this.keys = new Map();
    for (const { first, more } of keys.values()) {
      if (more > 0) this.log.warn({ door: first.door, remote: first.remote, code: first.code, count: more, intervalMs: this.intervalMs }, 'authentication failed (repeated)');
    }
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.flush();
  }
}
