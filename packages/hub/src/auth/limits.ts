/**
 * The small limiters every door shares: a token bucket (publish rate per
 * client), failure counts after failed authentication (brute force; composed
 * in guard.ts), and slot counters per IP and in total (connections, password
 * checks in flight). All are O(1) per event and bounded in memory.
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

interface Count { level: number; at: number; pending: number; until: number }

/**
 * Failed attempts per key (a name and address, a name, an address), counted
 * *before* each check: `admit` reserves the attempt as pending, `fail`,
 * `succeed` or `cancel` settles it, so concurrent attempts see each other.
 * Failures are forgotten linearly, one per `decayMs` (a leaky bucket).
 *
 * `backoff` mode: `allowance` failures are free; from the last of them on,
 * each failure doubles a wait (`baseMs` … `maxMs`) and attempts go one at a time.
 * `bucket` mode: attempts are admitted while failures + pending stay under
 * `allowance`, with no wait of their own.
 *
 * Bounded: at most `maxKeys` keys, the least recently failed evicted first (counted).
 */
export class FailureCounts {
  private readonly keys = new Map<string, Count>();
  evicted = 0;
  constructor(
    readonly mode: 'backoff' | 'bucket',
    readonly allowance: number,
    readonly decayMs: number,
    readonly baseMs = 1000,
    readonly maxMs = 60_000,
    /** A success forgets the key (per name and address; not per address, or an attacker's own login would reset it). */
    readonly clearOnSuccess = false,
    readonly maxKeys = 50_000,
  ) {}

  get size(): number {
    return this.keys.size;
  }

  /** Failures held against `key` now (decayed, not counting pending attempts). */
  level(key: string, now: number): number {
    const c = this.keys.get(key);
    return c ? this.decayed(c, now) : 0;
  }

  /** 0: the attempt may be checked now and is pending until settled; otherwise the milliseconds to wait. */
  admit(key: string, now: number): number {
    let c = this.keys.get(key);
    if (!c) {
      c = { level: 0, at: now, pending: 0, until: 0 };
      this.put(key, c);
    }
    c.level = this.decayed(c, now);
    c.at = now;
    if (this.mode === 'bucket') {
      const over = c.level + c.pending + 1 - this.allowance;
      if (over > 0) return Math.ceil(over * this.decayMs);
    } else {
      if (c.until > now) return c.until - now;
      if (c.pending > 0 && c.level + c.pending >= this.allowance) return this.baseMs; // in backoff: one at a time
    }
    c.pending++;
    return 0;
  }

  fail(key: string, now: number): void {
    const c = this.keys.get(key) ?? { level: 0, at: now, pending: 1, until: 0 };
    c.pending = Math.max(0, c.pending - 1);
    c.level = this.decayed(c, now) + 1;
    c.at = now;
    const over = Math.ceil(c.level) - this.allowance;
    if (this.mode === 'backoff' && over >= 0) c.until = now + Math.min(this.maxMs, this.baseMs * 2 ** over);
    this.keys.delete(key); // re-inserted last: the map's order is least recently failed first
    this.put(key, c);
  }

  succeed(key: string): void {
    if (this.clearOnSuccess) this.keys.delete(key);
    else this.cancel(key);
  }

  /** The attempt was not checked after all (refused by another limit). */
  cancel(key: string): void {
    const c = this.keys.get(key);
    if (!c) return;
    c.pending = Math.max(0, c.pending - 1);
    if (c.pending === 0 && c.level === 0 && c.until === 0) this.keys.delete(key); // nothing held: a storm of successes leaves no entries behind
  }

  private decayed(c: Count, now: number): number {
    return Math.max(0, c.level - Math.max(0, now - c.at) / this.decayMs);
  }

  private put(key: string, c: Count): void {
    if (this.keys.size >= this.maxKeys) {
      const oldest = this.keys.keys().next().value;
      if (oldest !== undefined) this.keys.delete(oldest);
      this.evicted++;
    }
    this.keys.set(key, c);
  }
}

/**
 * The key an address is limited by: IPv4 (also IPv4-mapped IPv6) as is, IPv6
 * by its /64 (one host usually holds a whole /64, so per-address limits on full
 * IPv6 addresses would not limit anything).
 */
export function addressKey(ip: string): string {
  const v4 = /^(?:::ffff:)?(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (v4) return v4[1]!;
  if (!ip.includes(':')) return ip;
  const [head = '', tail] = ip.split('%')[0]!.toLowerCase().split('::', 2);
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/** Slots in total and per IP: live connections across every door; password checks in flight. */
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
