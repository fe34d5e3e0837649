/**
 * What every authentication passes before a secret is checked: the guessing
 * limits and the bound on password checks in flight. docs/security.md
 * ("Failed attempts") states the policy and the guessing rates it guarantees.
 *
 * - Attempts for one name from one address run one at a time (a pipelined burst
 *   sees each failure before the next check); at most 64 wait per name and
 *   address, 10,000 in all; more are refused unchecked.
 * - name + address: `freeFailures` free, then a doubling wait up to `maxMs`.
 * - name, over every address: `nameFailures` free, then the same (many addresses, one password).
 * - address, over every name: a bucket of `ipFailures` (many names, one address).
 * - A name that proved its secret from an address within the last 7 days is
 *   held there only by its own name + address count: neighbours' failures
 *   (address) and other addresses' failures (name) cannot lock it out.
 * - Name counts forget one failure per `maxMs`, address counts one per `ipDecayMs`.
 * - Password (scrypt) checks in flight: `checksInFlight` in total and
 *   `checksPerIp` per address; a check past them is answered RATE_LIMITED
 *   without hashing.
 */
import type { CodeName } from '@fieldlink/protocol';
import { addressKey, ConnectionLimits, FailureCounts } from './limits.js';

export interface GuardOptions {
  freeFailures: number;
  nameFailures: number;
  ipFailures: number;
  ipDecayMs: number;
  baseMs: number;
  maxMs: number;
  checksInFlight: number;
  checksPerIp: number;
}

export const GUARD_DEFAULTS: GuardOptions = { freeFailures: 5, nameFailures: 50, ipFailures: 100, ipDecayMs: 6000, baseMs: 1000, maxMs: 60_000, checksInFlight: 4, checksPerIp: 2 };

export type Verdict = { ok: true } | { ok: false; code: CodeName; message: string };

/** Takes a password-check slot for the attempt (at most once); false when none is free. */
export type Slot = () => boolean;

const TRUST_MS = 7 * 24 * 3600_000;
const MAX_TRUSTED = 50_000;
const MAX_WAITING_PER_KEY = 64;
const MAX_WAITING = 10_000;

const limited = (message: string) => ({ ok: false, code: 'RATE_LIMITED', message }) as const;

/** Runs callbacks one at a time per key; bounded per key and in total. */
class Serial {
  private readonly keys = new Map<string, { tail: Promise<void>; n: number }>();
  waiting = 0;
  async run<T>(key: string, fn: () => Promise<T>): Promise<T | undefined> {
    let q = this.keys.get(key);
    if ((q && q.n >= MAX_WAITING_PER_KEY) || this.waiting >= MAX_WAITING) return undefined;
    if (!q) this.keys.set(key, (q = { tail: Promise.resolve(), n: 0 }));
    const prev = q.tail;
    let done!: () => void;
    q.tail = new Promise<void>((r) => (done = r));
    q.n++;
    this.waiting++;
    try {
      await prev;
      return await fn();
    } finally {
      this.waiting--;
      if (--q.n === 0) this.keys.delete(key);
      done();
    }
  }
}

export class AuthGuard {
  readonly pair: FailureCounts;
  readonly name: FailureCounts;
  readonly ip: FailureCounts;
  /** Password checks in flight (`count`), and how many were refused for want of a slot (`rejected`). */
  readonly slots: ConnectionLimits;
  private readonly serial = new Serial();
  /** `name@address` → last success; insertion order is oldest first. */
  private readonly trusted = new Map<string, number>();
  /** Attempts refused because too many were already waiting for the same name and address. */
  queueRefused = 0;

  constructor(readonly opts: GuardOptions = GUARD_DEFAULTS, private readonly now = () => Date.now()) {
    this.pair = new FailureCounts('backoff', opts.freeFailures, opts.maxMs, opts.baseMs, opts.maxMs, true);
    this.name = new FailureCounts('backoff', opts.nameFailures, opts.maxMs, opts.baseMs, opts.maxMs);
    this.ip = new FailureCounts('bucket', opts.ipFailures, opts.ipDecayMs);
    this.slots = new ConnectionLimits(opts.checksInFlight, opts.checksPerIp);
  }

  /**
   * Run `check` for an attempt claiming `name` from `ip` if the limits allow it.
   * The check calls `slot()` before a password hash; only BAD_CREDENTIALS
   * verdicts count as failures.
   */
  async run<V extends Verdict>(name: string, ip: string, check: (slot: Slot) => Promise<V>): Promise<V | ReturnType<typeof limited>> {
    const addr = addressKey(ip);
    const pair = `${name}@${addr}`;
    const r = await this.serial.run(pair, () => this.attempt(name, addr, pair, check));
    if (r) return r;
    this.queueRefused++;
    return limited('too many attempts in progress for this name');
  }

  private async attempt<V extends Verdict>(name: string, addr: string, pair: string, check: (slot: Slot) => Promise<V>): Promise<V | ReturnType<typeof limited>> {
    const now = this.now();
    const trusted = this.isTrusted(pair, now);
    const w1 = this.pair.admit(pair, now);
    if (w1 > 0) return limited(`too many failed attempts for this name: retry in ${Math.ceil(w1 / 1000)} s`);
    const w2 = trusted ? 0 : this.name.admit(name, now);
    if (w2 > 0) {
      this.pair.cancel(pair);
      return limited(`too many failed attempts for this name: retry in ${Math.ceil(w2 / 1000)} s`);
    }
    const w3 = trusted ? 0 : this.ip.admit(addr, now);
    if (w3 > 0) {
      this.pair.cancel(pair);
      this.name.cancel(name);
      return limited(`too many failed attempts from this address: retry in ${Math.ceil(w3 / 1000)} s`);
    }
    let release: (() => void) | undefined;
    let r: V | undefined;
    try {
      r = await check(() => (release ??= this.slots.acquire(addr)) !== undefined);
    } finally {
      release?.();
      const at = this.now();
      const failed = r !== undefined && !r.ok && r.code === 'BAD_CREDENTIALS';
      const settle = (c: FailureCounts, key: string) => (failed ? c.fail(key, at) : r?.ok ? c.succeed(key) : c.cancel(key));
      settle(this.pair, pair);
      if (!trusted) {
        settle(this.name, name);
        settle(this.ip, addr);
      }
      if (r?.ok) this.trust(pair, at);
    }
    return r;
  }

  private isTrusted(pair: string, now: number): boolean {
    const t = this.trusted.get(pair);
    return t !== undefined && now - t < TRUST_MS;
  }

  private trust(pair: string, now: number): void {
    this.trusted.delete(pair);
    if (this.trusted.size >= MAX_TRUSTED) {
      const oldest = this.trusted.keys().next().value;
      if (oldest !== undefined) this.trusted.delete(oldest);
    }
    this.trusted.set(pair, now);
  }
}
