/**
 * Identities (auth/identities.ts) in the store's database, schema version 3,
 * and their change log (identity_events: SQLite v4, PostgreSQL v5).
 * Both backends share this module's shape; each opens its own small connection,
 * because identity reads happen at connect time on the main thread while
 * telemetry writes may run elsewhere (a worker, a pool busy with batches).
 */
import type { DeviceCredential, IdentityEvent, IdentityStore, TokenRecord, UserRecord } from '../auth/identities.js';
import type { Durability } from './types.js';
import { sidePool, sideSqlite } from './side-db.js';

type Row = Record<string, unknown>;
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const device = (r: Row): DeviceCredential => ({ id: String(r.id), secretHash: String(r.secret_hash), createdAt: Number(r.created_at) });
const user = (r: Row): UserRecord => ({ name: String(r.name), passwordHash: String(r.password_hash), role: r.role as UserRecord['role'], createdAt: Number(r.created_at) });
const token = (r: Row): TokenRecord => ({
  id: String(r.id), hash: String(r.hash), name: String(r.name), role: r.role as TokenRecord['role'], subject: r.subject === null ? null : String(r.subject),
  createdAt: Number(r.created_at), expiresAt: num(r.expires_at), revokedAt: num(r.revoked_at),
});
const event = (r: Row): IdentityEvent => ({ seq: Number(r.seq), kind: r.kind as IdentityEvent['kind'], id: String(r.id), reason: String(r.reason), at: Number(r.at) });

/** The SQL both dialects share; `$n` placeholders are rewritten to `?` for SQLite. */
const SQL = {
  getDevice: 'SELECT * FROM identity_devices WHERE id = $1',
  putDevice: 'INSERT INTO identity_devices (id, secret_hash, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET secret_hash = excluded.secret_hash',
  removeDevice: 'DELETE FROM identity_devices WHERE id = $1',
  listDevices: 'SELECT * FROM identity_devices ORDER BY id',
  getUser: 'SELECT * FROM identity_users WHERE name = $1',
  putUser: 'INSERT INTO identity_users (name, password_hash, role, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash, role = excluded.role',
  removeUser: 'DELETE FROM identity_users WHERE name = $1',
  listUsers: 'SELECT * FROM identity_users ORDER BY name',
  getToken: 'SELECT * FROM identity_tokens WHERE id = $1',
  putToken: 'INSERT INTO identity_tokens (id, hash, name, role, subject, created_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
  listTokens: 'SELECT * FROM identity_tokens ORDER BY created_at, id',
  // Placeholders stay in order: SQLite gets them rewritten to plain `?`.
  revokeToken: 'UPDATE identity_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL',
  eventsAfter: 'SELECT * FROM identity_events WHERE seq > $1 ORDER BY seq LIMIT $2',
  lastEventSeq: 'SELECT coalesce(max(seq), 0) AS n FROM identity_events',
  pruneEvents: 'DELETE FROM identity_events WHERE at < $1',
  hasAny: 'SELECT (SELECT count(*) FROM identity_devices) + (SELECT count(*) FROM identity_users) + (SELECT count(*) FROM identity_tokens) AS n',
} as const;

interface Exec {
  rows(sql: string, args: unknown[]): Promise<Row[]>;
  run(sql: string, args: unknown[]): Promise<number>;
  close(): Promise<void>;
}

function identityStore(x: Exec): IdentityStore {
  const one = async (sql: string, args: unknown[]) => (await x.rows(sql, args))[0];
  return {
    getDevice: async (id) => ((r) => (r ? device(r) : undefined))(await one(SQL.getDevice, [id])),
    putDevice: async (d) => void (await x.run(SQL.putDevice, [d.id, d.secretHash, d.createdAt])),
    removeDevice: async (id) => (await x.run(SQL.removeDevice, [id])) > 0,
    listDevices: async () => (await x.rows(SQL.listDevices, [])).map(device),
    getUser: async (name) => ((r) => (r ? user(r) : undefined))(await one(SQL.getUser, [name])),
    putUser: async (u) => void (await x.run(SQL.putUser, [u.name, u.passwordHash, u.role, u.createdAt])),
    removeUser: async (name) => (await x.run(SQL.removeUser, [name])) > 0,
    listUsers: async () => (await x.rows(SQL.listUsers, [])).map(user),
    getToken: async (id) => ((r) => (r ? token(r) : undefined))(await one(SQL.getToken, [id])),
    putToken: async (t) => void (await x.run(SQL.putToken, [t.id, t.hash, t.name, t.role, t.subject, t.createdAt, t.expiresAt, t.revokedAt])),
    listTokens: async () => (await x.rows(SQL.listTokens, [])).map(token),
    revokeToken: async (id, at) => (await x.run(SQL.revokeToken, [at, id])) > 0,
    eventsAfter: async (after, limit) => (await x.rows(SQL.eventsAfter, [after, limit])).map(event),
    lastEventSeq: async () => Number((await one(SQL.lastEventSeq, []))?.n ?? 0),
    pruneEvents: async (before) => x.run(SQL.pruneEvents, [before]),
    hasAny: async () => Number((await one(SQL.hasAny, []))?.n ?? 0) > 0,
  };
}

export type ClosableIdentityStore = IdentityStore & { close(): Promise<void> };

/** `durability` as the store's (--durability): this connection's PRAGMA synchronous. */
export function sqliteIdentities(path: string, durability: Durability = 'process'): ClosableIdentityStore {
  const db = sideSqlite(path, durability);
  const q = (sql: string) => db.prepare(sql.replace(/\$\d+/g, '?'));
  const x: Exec = {
    rows: async (sql, args) => q(sql).all(...args) as Row[],
    run: async (sql, args) => q(sql).run(...args).changes,
    close: async () => void db.close(),
  };
  return { ...identityStore(x), close: x.close };
}

export function postgresIdentities(url: string, schema?: string): ClosableIdentityStore {
  const pool = sidePool(url, schema);
  const x: Exec = {
    rows: async (sql, args) => (await pool.query(sql, args)).rows as Row[],
    run: async (sql, args) => (await pool.query(sql, args)).rowCount ?? 0,
    close: () => pool.end(),
  };
  return { ...identityStore(x), close: x.close };
}
