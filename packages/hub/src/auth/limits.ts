/**
 * The small limiters every door shares: a token bucket (publish rate per
 * client), a per-IP backoff after failed authentication (brute force), and
 * connection counters (total and per IP). All are O(1) per event and bounded in
 * memory: idle entries are swept.
 */

/** Token bucket: `ratePerSec` sustained, `burst` at once. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(private readonly ratePerSec: number, private readonly burst: number, now = Date.now()) {
    this.tokens = burst;
    this.last = now;
  }
  take(now = Date.now()): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSec);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

interface Backoff { failures: number; until: number; last: number }

/**
 * After `freeFailures` failed attempts under one key (an IP, or IP + name), each
 * further failure doubles a wait (from `baseMs` to `maxMs`) during which that
 * key's attempts are refused unchecked. A success clears the key.
 */
export class AuthBackoff {
  private readonly ips = new Map<string, Backoff>();
  refused = 0;
  constructor(readonly freeFailures = 5, readonly baseMs = 1000, readonly maxMs = 60_000) {}

  /** Milliseconds this IP must still wait, 0 if it may try now. */
  waitMs(ip: string, now = Date.now()): number {
    const b = this.ips.get(ip);
    const wait = b ? Math.max(0, b.until - now) : 0;
    if (wait > 0) this.refused++;
    return wait;
  }
  failure(ip: string, now = Date.now()): void {
    const b = this.ips.get(ip) ?? { failures: 0, until: 0, last: now };
    b.failures++;
    b.last = now;
    if (b.failures > this.freeFailures) b.until = now + Math.min(this.maxMs, this.baseMs * 2 ** (b.failures - this.freeFailures - 1));
    this.ips.set(ip, b);
    if (this.ips.size > 10_000) this.sweep(now);
  }
  success(ip: string): void {
    this.ips.delete(ip);
  }
  private sweep(now: number): void {
    for (const [ip, b] of this.ips) if (now - b.last > this.maxMs * 2) this.ips.delete(ip);
  }
}

/** Live connections in total and per IP, across every door. */
export class ConnectionLimits {
  private total = 0;
  private readonly perIp = new Map<string, number>();
  rejected = 0;
  constructor(private readonly maxTotal: number, private readonly maxPerIp: number) {}

  get count(): number {
    return this.total;
  }
  /** Reserve a slot; returns a release function, or undefined when over a limit. */
  acquire(ip: string): (() => void) | undefined {
    const n = this.perIp.get(ip) ?? 0;
    if (this.total >= this.maxTotal || n >= this.maxPerIp) {
      this.rejected++;
      return undefined;
    }
    this.total++;
    this.perIp.set(ip, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const m = (this.perIp.get(ip) ?? 1) - 1;
      if (m <= 0) this.perIp.delete(ip);
      else this.perIp.set(ip, m);
    };
  }
}
