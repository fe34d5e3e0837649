/**
 * One authenticator for every door: device id + secret, user + password, or an
 * API token; anonymous only where the configuration allows it. Every attempt
 * that carries a secret passes the guard first (guard.ts: serialised per name
 * and address, guessing limits per name and per address, password checks in
 * flight bounded).
 *
 * Equal cost for unknown names: an unknown name is checked against a dummy
 * hash of the kind the claimed credential would have (SHA-256 for device
 * secrets and tokens, scrypt for passwords). An MQTT login may name a device or
 * a user, so every failed one costs one SHA-256 *and* one scrypt (the device
 * check, then the user check), whether the name is a device, a user or nothing.
 */
import type { CodeName } from '@fieldlink/protocol';
import type { Identity, Role } from './acl.js';
import type { IdentityStore } from './identities.js';
import { AuthGuard, GUARD_DEFAULTS, type GuardOptions, type Slot } from './guard.js';
import { fastHash, generateSecret, generation, hashPassword, parseToken, verifySecret } from './secrets.js';

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

export interface AuthCounters {
  ok: number;
  failed: number;
  rateLimited: number;
  /** Secrets actually checked, by hash kind (dummies included): what the guard bounds. */
  sha256Checks: number;
  scryptChecks: number;
}

/** The name an attempt claims, for the guessing limits: device ids, user names and MQTT logins share one namespace. */
function nameOf(c: Credentials): string | undefined {
  if (c.token !== undefined) return `token:${c.token.split('_')[1] ?? '?'}`;
  const name = c.login?.name ?? (c.secret !== undefined ? c.device : undefined) ?? (c.password !== undefined ? c.user : undefined);
  return name === undefined ? undefined : `name:${name}`;
}

// Real hashes of random secrets: verifying against them costs what a real check of that kind costs.
const DUMMY_SCRYPT = hashPassword(generateSecret());
const DUMMY_SHA256 = fastHash(generateSecret());

export class Authenticator {
  readonly counters: AuthCounters = { ok: 0, failed: 0, rateLimited: 0, sha256Checks: 0, scryptChecks: 0 };
  readonly guard: AuthGuard;

  constructor(
    private readonly ids: IdentityStore | undefined,
    /** Role of connections that present no credentials; null: they must authenticate. */
    readonly anonymousRole: Role | null,
    guard: GuardOptions = GUARD_DEFAULTS,
    private readonly now = () => Date.now(),
    /** Role of credential-less connections that came through a proxy (auth/peer.ts): never the loopback default. */
    readonly proxiedAnonymousRole: Role | null = anonymousRole,
  ) {
    this.guard = new AuthGuard(guard, now);
  }

  anonymous(proxied = false): Identity | undefined {
    const role = proxied ? this.proxiedAnonymousRole : this.anonymousRole;
    return role ? { kind: 'anonymous', id: 'anonymous', role } : undefined;
  }

  /** `ip`: the client address (auth/peer.ts); `proxied`: it came through a proxy, which decides the anonymous role. */
  async authenticate(c: Credentials, ip: string, proxied = false): Promise<AuthResult> {
    const name = nameOf(c);
    // No secret, nothing to guess: anonymous access (or its refusal) is not limited here.
    const r = name === undefined ? await this.check(c, () => true, proxied) : await this.guard.run(name, ip, (slot) => this.check(c, slot, proxied));
    if (r.ok) this.counters.ok++;
    else if (r.code === 'BAD_CREDENTIALS') this.counters.failed++;
    else if (r.code === 'RATE_LIMITED') this.counters.rateLimited++;
    return r;
  }

  /** Check a secret against a stored hash (or a dummy of the same kind), counted by kind. */
  private async verify(secret: string, stored: string): Promise<boolean> {
    if (stored.startsWith('scrypt$')) this.counters.scryptChecks++;
    else this.counters.sha256Checks++;
    return verifySecret(secret, stored);
  }

  private async check(c: Credentials, slot: Slot, proxied = false): Promise<AuthResult> {
    const bad = (message = 'bad credentials'): AuthResult => ({ ok: false, code: 'BAD_CREDENTIALS', message });
    if (c.token !== undefined) {
      const t = parseToken(c.token);
      const rec = t && this.ids ? await this.ids.getToken(t.id) : undefined;
      if (!t || !rec) return (await this.verify(t?.secret ?? c.token, DUMMY_SHA256), bad());
      if (!(await this.verify(t.secret, rec.hash))) return bad();
      if (rec.revokedAt !== null) return bad('token revoked');
      if (rec.expiresAt !== null && rec.expiresAt <= this.now()) return bad('token expired');
      const proof = { credential: `token:${rec.id}`, ...(rec.expiresAt !== null ? { expiresAt: rec.expiresAt } : {}) };
      if (rec.role === 'device') return rec.subject ? { ok: true, identity: { kind: 'device', id: rec.subject, role: 'device', ...proof } } : bad();
      return { ok: true, identity: { kind: 'token', id: rec.id, role: rec.role, ...(rec.subject ? { user: rec.subject } : {}), ...proof } };
    }
    if (c.login !== undefined) {
      const dev = await this.checkDevice(c.login.name, c.login.secret);
      return dev.ok ? dev : this.checkUser(c.login.name, c.login.secret, slot);
    }
    if (c.device !== undefined && c.secret !== undefined) return this.checkDevice(c.device, c.secret);
    if (c.user !== undefined && c.password !== undefined) return this.checkUser(c.user, c.password, slot);
    const anon = this.anonymous(proxied);
    if (anon) return { ok: true, identity: anon };
    return { ok: false, code: 'UNAUTHENTICATED', message: 'credentials required' };
  }

  private async checkDevice(id: string, secret: string): Promise<AuthResult> {
    const rec = this.ids ? await this.ids.getDevice(id) : undefined;
    const ok = await this.verify(secret, rec?.secretHash ?? DUMMY_SHA256);
    return ok && rec ? { ok: true, identity: { kind: 'device', id: rec.id, role: 'device', credential: `secret:${generation(rec.secretHash)}` } } : { ok: false, code: 'BAD_CREDENTIALS', message: 'bad credentials' };
  }

  /** Passwords cost a scrypt: a slot first (claimed kind, before the lookup, so a refusal says nothing about the name). */
  private async checkUser(name: string, password: string, slot: Slot): Promise<AuthResult> {
    if (!slot()) return { ok: false, code: 'RATE_LIMITED', message: 'too many password checks in progress: retry in 1 s' };
    const rec = this.ids ? await this.ids.getUser(name) : undefined;
    const ok = await this.verify(password, rec?.passwordHash ?? (await DUMMY_SCRYPT));
    return ok && rec ? { ok: true, identity: { kind: 'user', id: rec.name, role: rec.role, user: rec.name, credential: `password:${generation(rec.passwordHash, rec.role)}` } } : { ok: false, code: 'BAD_CREDENTIALS', message: 'bad credentials' };
  }
}
