/**
 * One authenticator for every door: device id + secret, user + password, or an
 * API token; anonymous only where the configuration allows it. Failures are
 * slowed down (AuthBackoff) per address *and name* (guessing one password), and
 * per address with ten times the allowance (trying many names), so a neighbour
 * behind the same NAT who knows its own secret is not locked out by an attacker.
 * Unknown names cost the same time as wrong secrets, so names cannot be probed
 * by timing.
 */
import type { CodeName } from '@fieldlink/protocol';
import type { Identity, Role } from './acl.js';
import type { IdentityStore } from './identities.js';
import { AuthBackoff } from './limits.js';
import { hashPassword, parseToken, verifySecret } from './secrets.js';

export interface Credentials {
  device?: string;
  secret?: string;
  user?: string;
  password?: string;
  token?: string;
  /** MQTT CONNECT: a device id with its secret, or else a user name with its password. */
  login?: { name: string; secret: string };
}

export type AuthResult = { ok: true; identity: Identity } | { ok: false; code: CodeName; message: string };

export interface AuthCounters { ok: number; failed: number; rateLimited: number }

/** The name an attempt claims, for per-name backoff. */
function nameOf(c: Credentials): string {
  if (c.token !== undefined) return `token:${c.token.split('_')[1] ?? '?'}`;
  if (c.login) return `login:${c.login.name}`;
  if (c.device !== undefined) return `device:${c.device}`;
  if (c.user !== undefined) return `user:${c.user}`;
  return 'anonymous';
}

// A real scrypt hash of a random password: verifying against it costs what a real check costs.
const DUMMY = hashPassword(Math.random().toString(36));

export class Authenticator {
  readonly counters: AuthCounters = { ok: 0, failed: 0, rateLimited: 0 };

  private readonly perIp: AuthBackoff;

  constructor(
    private readonly ids: IdentityStore | undefined,
    /** Role of connections that present no credentials; null: they must authenticate. */
    readonly anonymousRole: Role | null,
    /** Per address and name. */
    readonly backoff = new AuthBackoff(),
    private readonly now = () => Date.now(),
    /** Role of credential-less connections that came through a proxy (auth/peer.ts): never the loopback default. */
    readonly proxiedAnonymousRole: Role | null = anonymousRole,
  ) {
    this.perIp = new AuthBackoff(backoff.freeFailures * 10, backoff.baseMs, backoff.maxMs);
  }

  anonymous(proxied = false): Identity | undefined {
    const role = proxied ? this.proxiedAnonymousRole : this.anonymousRole;
    return role ? { kind: 'anonymous', id: 'anonymous', role } : undefined;
  }

  /** `ip`: the client address (auth/peer.ts); `proxied`: it came through a proxy, which decides the anonymous role. */
  async authenticate(c: Credentials, ip: string, proxied = false): Promise<AuthResult> {
    const key = `${ip}|${nameOf(c)}`;
    const wait = Math.max(this.backoff.waitMs(key, this.now()), this.perIp.waitMs(ip, this.now()));
    if (wait > 0) {
      this.counters.rateLimited++;
      return { ok: false, code: 'RATE_LIMITED', message: `too many failed attempts from this address: retry in ${Math.ceil(wait / 1000)} s` };
    }
    const r = await this.check(c, proxied);
    if (r.ok) {
      this.counters.ok++;
      this.backoff.success(key);
    } else if (r.code === 'BAD_CREDENTIALS') {
      this.counters.failed++;
      this.backoff.failure(key, this.now());
      this.perIp.failure(ip, this.now());
    }
    return r;
  }

  private async check(c: Credentials, proxied = false): Promise<AuthResult> {
    const bad = (message = 'bad credentials'): AuthResult => ({ ok: false, code: 'BAD_CREDENTIALS', message });
    if (c.token !== undefined) {
      const t = parseToken(c.token);
      const rec = t && this.ids ? await this.ids.getToken(t.id) : undefined;
      if (!t || !rec) return (await verifySecret('x', await DUMMY), bad());
      if (!(await verifySecret(t.secret, `${rec.hash}`))) return bad();
      if (rec.revokedAt !== null) return bad('token revoked');
      if (rec.expiresAt !== null && rec.expiresAt <= this.now()) return bad('token expired');
      if (rec.role === 'device') return rec.subject ? { ok: true, identity: { kind: 'device', id: rec.subject, role: 'device' } } : bad();
      return { ok: true, identity: { kind: 'token', id: rec.id, role: rec.role, ...(rec.subject ? { user: rec.subject } : {}) } };
    }
    if (c.login !== undefined) {
      const dev = this.ids ? await this.ids.getDevice(c.login.name) : undefined;
      return this.check(dev ? { device: c.login.name, secret: c.login.secret } : { user: c.login.name, password: c.login.secret });
    }
    if (c.device !== undefined && c.secret !== undefined) {
      const rec = this.ids ? await this.ids.getDevice(c.device) : undefined;
      if (!rec) return (await verifySecret(c.secret, await DUMMY), bad());
      return (await verifySecret(c.secret, rec.secretHash)) ? { ok: true, identity: { kind: 'device', id: rec.id, role: 'device' } } : bad();
    }
    if (c.user !== undefined && c.password !== undefined) {
      const rec = this.ids ? await this.ids.getUser(c.user) : undefined;
      if (!rec) return (await verifySecret(c.password, await DUMMY), bad());
      return (await verifySecret(c.password, rec.passwordHash)) ? { ok: true, identity: { kind: 'user', id: rec.name, role: rec.role, user: rec.name } } : bad();
    }
    const anon = this.anonymous(proxied);
    if (anon) return { ok: true, identity: anon };
    return { ok: false, code: 'UNAUTHENTICATED', message: 'credentials required' };
  }
}
