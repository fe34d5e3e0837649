/**
 * Dashboard sessions: an HttpOnly, SameSite=Strict cookie (Secure under TLS)
 * holding a random id; the hub keeps id → identity in memory, so a restart logs
 * everyone out (by design: nothing to steal from disk). Sessions expire after
 * `ttlMs` of inactivity.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Identity } from './acl.js';

export const COOKIE = 'fl_session';

export class Sessions {
  private readonly byId = new Map<string, { identity: Identity; expires: number }>();
  constructor(private readonly ttlMs = 12 * 3600_000) {}

  create(identity: Identity): string {
    const id = randomBytes(32).toString('base64url');
    this.byId.set(id, { identity, expires: Date.now() + this.ttlMs });
    if (this.byId.size % 1000 === 0) this.sweep();
    return id;
  }

  fromRequest(req: IncomingMessage): Identity | undefined {
    const id = readCookie(req, COOKIE);
    const s = id ? this.byId.get(id) : undefined;
    if (!s) return undefined;
    if (s.expires < Date.now()) {
      this.byId.delete(id!);
      return undefined;
    }
    s.expires = Date.now() + this.ttlMs;
    return s.identity;
  }

  destroy(req: IncomingMessage): void {
    const id = readCookie(req, COOKIE);
    if (id) this.byId.delete(id);
  }

  /** Drop every session of one identity (user removed or password changed). */
  revokeFor(kind: Identity['kind'], name: string): void {
    for (const [id, s] of this.byId) if (s.identity.kind === kind && s.identity.id === name) this.byId.delete(id);
  }

  cookie(id: string, secure: boolean): string {
    return `${COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(this.ttlMs / 1000)}${secure ? '; Secure' : ''}`;
  }

  clearCookie(secure: boolean): string {
    return `${COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, s] of this.byId) if (s.expires < now) this.byId.delete(id);
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
