/**
 * Dashboard sessions: an HttpOnly, SameSite=Strict cookie (Secure under TLS)
 * holding a random id; the hub keeps id → identity in memory, so a restart logs
 * everyone out (by design: nothing to steal from disk).
 *
 * A session ends after `idleMs` without a request (sliding, 12 h), and in any
 * case `maxAgeMs` after the login (--session-max-age-ms, 24 h): a stolen or
 * forgotten cookie is good for a day at most, however busy. The identity a
 * session hands out carries that end as `expiresAt`, so a WebSocket opened with
 * the cookie is closed then too (auth/live.ts). It also carries the credential
 * generation it was proven with: revocation (auth/revocation.ts) drops the
 * sessions of a removed user or a changed password, on every hub.
 *
 * Bounded: at most `max` sessions (10,000); a login past that first sweeps the
 * ended ones, then ends the oldest (counted as `evicted`).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Identity } from './acl.js';

export const COOKIE = 'fl_session';

export interface SessionOptions {
  idleMs?: number;
  maxAgeMs?: number;
  max?: number;
  now?: () => number;
}

/** Why sessions ended, for /metrics. */
export interface SessionCounters { created: number; expired: number; revoked: number; evicted: number; loggedOut: number }

export class Sessions {
  private readonly byId = new Map<string, { identity: Identity; expires: number; ends: number }>();
  readonly idleMs: number;
  readonly maxAgeMs: number;
  private readonly max: number;
  private readonly now: () => number;
  readonly counters: SessionCounters = { created: 0, expired: 0, revoked: 0, evicted: 0, loggedOut: 0 };

  constructor(opts: SessionOptions = {}) {
    this.idleMs = opts.idleMs ?? 12 * 3600_000;
    this.maxAgeMs = opts.maxAgeMs ?? 24 * 3600_000;
    this.max = opts.max ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.byId.size;
  }

  create(identity: Identity): string {
    if (this.byId.size >= this.max) {
      this.sweep();
      for (const oldest of this.byId.keys()) {
        if (this.byId.size < this.max) break;
        this.byId.delete(oldest); // a Map iterates in insertion order: oldest login first
        this.counters.evicted++;
      }
    }
    const id = randomBytes(32).toString('base64url');
    const now = this.now();
    const ends = Math.min(now + this.maxAgeMs, identity.expiresAt ?? Infinity);
    this.byId.set(id, { identity: { ...identity, expiresAt: ends }, expires: Math.min(now + this.idleMs, ends), ends });
    this.counters.created++;
    return id;
  }

  fromRequest(req: IncomingMessage): Identity | undefined {
    const id = readCookie(req, COOKIE);
    const s = id ? this.byId.get(id) : undefined;
    if (!s) return undefined;
    const now = this.now();
    if (s.expires <= now) {
      this.byId.delete(id!);
      this.counters.expired++;
      return undefined;
    }
    s.expires = Math.min(now + this.idleMs, s.ends);
    return s.identity;
  }

  destroy(req: IncomingMessage): void {
    const id = readCookie(req, COOKIE);
    if (id && this.byId.delete(id)) this.counters.loggedOut++;
  }

  /** End every session whose identity `ended` picks (revocation). Returns how many. */
  revokeWhere(ended: (identity: Identity) => boolean): number {
    let n = 0;
    for (const [id, s] of this.byId) {
      if (!ended(s.identity)) continue;
      this.byId.delete(id);
      n++;
    }
    this.counters.revoked += n;
    return n;
  }

  /** Drop every session of one identity. */
  revokeFor(kind: Identity['kind'], name: string): void {
    this.revokeWhere((i) => i.kind === kind && i.id === name);
  }

  cookie(id: string, secure: boolean): string {
    const age = Math.floor(Math.min(this.idleMs, this.maxAgeMs) / 1000);
    return `${COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${age}${secure ? '; Secure' : ''}`;
  }

  clearCookie(secure: boolean): string {
    return `${COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
  }

  /** Forget ended sessions (the revocation watcher calls this every tick). */
  sweep(): void {
    const now = this.now();
    for (const [id, s] of this.byId) {
      if (s.expires > now) continue;
      this.byId.delete(id);
      this.counters.expired++;
    }
  }
}

export function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
