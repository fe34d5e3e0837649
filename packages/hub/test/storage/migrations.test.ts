// Migrations of both backends: from an empty database; from every earlier
// version holding the data that version could hold (v1 points must be rolled up
// by v2, PostgreSQL's v4 moves points into day partitions, the identity change
// log of SQLite v4 / PostgreSQL v5 logs changes to identities that existed before), idempotence, and
// refusal of a newer schema.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { migrateSqlite, sqliteMigrations } from '../../src/storage/sqlite-migrations.js';
import { migratePostgres, pgMigrations } from '../../src/storage/postgres-migrations.js';
import { SqliteStore } from '../../src/storage/sqlite.js';
import { PostgresStore } from '../../src/storage/postgres.js';
import type { Store } from '../../src/storage/types.js';
import { postgresIdentities, sqliteIdentities, type ClosableIdentityStore } from '../../src/storage/identities.js';
import { postgresAlerts, sqliteAlerts, type AlertStore } from '../../src/storage/alerts.js';
import { naiveBuckets } from './contract.js';
import { PG_URL, dropSchema, randomSchema, requirePostgres } from './pg-harness.js';

const T0 = Date.UTC(2025, 0, 1);
const H = 3_600_000;
const v1Points = Array.from({ length: 500 }, (_, i) => ({ device: 'd', metric: 'm', ts: T0 + i * 37_000, value: (i * 13) % 17 }));

/** Runs SQL with `?` placeholders on the database under test. */
type Exec = (sql: string, args?: unknown[]) => Promise<void>;

/** Writes, as plain SQL, what a hub at `version` could have stored: points (v1+), rollups and a device (v2+), a user (v3+). */
async function seed(version: number, exec: Exec): Promise<void> {
  await exec("INSERT INTO series (id, device, metric) VALUES (1, 'd', 'm')");
  for (const p of v1Points) await exec('INSERT INTO points (series_id, ts, value) VALUES (1, ?, ?)', [p.ts, p.value]);
  if (version < 2) return;
  const hours = new Map<number, { min: number; max: number; sum: number; n: number; last: number; lastTs: number }>();
  for (const p of v1Points) {
    const h = p.ts - (p.ts % H);
    const r = hours.get(h) ?? { min: Infinity, max: -Infinity, sum: 0, n: 0, last: 0, lastTs: -1 };
    hours.set(h, { min: Math.min(r.min, p.value), max: Math.max(r.max, p.value), sum: r.sum + p.value, n: r.n + 1, last: p.ts > r.lastTs ? p.value : r.last, lastTs: Math.max(r.lastTs, p.ts) });
  }
  for (const [h, r] of hours) {
    await exec('INSERT INTO rollups_hourly (series_id, hour, vmin, vmax, vsum, n, last, last_ts) VALUES (1, ?, ?, ?, ?, ?, ?, ?)', [h, r.min, r.max, r.sum, r.n, r.last, r.lastTs]);
  }
  await exec(`INSERT INTO devices (id, first_seen, last_seen, online, last, meta) VALUES ('d', 1, 2, '1', '{}', '{"model":"x"}')`);
  if (version < 3) return;
  await exec("INSERT INTO identity_users (name, password_hash, role, created_at) VALUES ('vera', 'scrypt$16384$8$1$c2FsdA$a2V5', 'viewer', 5)");
  await exec("INSERT INTO identity_devices (id, secret_hash, created_at) VALUES ('dv', 'sha256$a', 5)");
  await exec("INSERT INTO identity_tokens (id, hash, name, role, subject, created_at, expires_at, revoked_at) VALUES ('tokdv0000001', 'sha256$t', 'dv', 'device', 'dv', 5, NULL, NULL)");
}

/** What the newest store must see after upgrading a database seeded at `version`. */
async function assertUpgraded(version: number, s: Store, identities: () => ClosableIdentityStore, alerts: () => AlertStore): Promise<void> {
  assert.deepEqual(await s.buckets({ device: 'd', metric: 'm', from: T0, to: T0 + 6 * H - 1, limit: 100, bucketMs: H }),
    naiveBuckets(v1Points, T0, T0 + 6 * H - 1, H));
  assert.deepEqual(await s.raw({ device: 'd', metric: 'm', from: 0, to: T0 + 24 * H, limit: 1000 }), v1Points.map(({ ts, value }) => ({ ts, value })));
  await s.append([{ device: 'd', metric: 'm', ts: T0 + 10, value: 100 }]); // lands in an existing rollup row
  const [b] = await s.buckets({ device: 'd', metric: 'm', from: T0, to: T0 + H - 1, limit: 1, bucketMs: H });
  assert.equal(b!.max, 100);
  if (version >= 2) assert.deepEqual((await s.device('d'))?.meta, { model: 'x' });
  await s.upsertDevice({ id: 'e', firstSeen: 1, lastSeen: 1, online: true, last: {}, meta: null });
  assert.equal((await s.devices()).length, version >= 2 ? 2 : 1);
  const ids = identities();
  try {
    assert.equal((await ids.getUser('vera'))?.role, version >= 3 ? 'viewer' : undefined);
    await ids.putUser({ name: 'otto', passwordHash: 'scrypt$16384$8$1$c2FsdA$a2V5', role: 'operator', createdAt: 6 });
    assert.equal((await ids.listUsers()).length, version >= 3 ? 2 : 1);
    // The identity change log exists, starts empty, and its triggers log what ends access.
    assert.equal(await ids.lastEventSeq(), 0);
    await ids.putUser({ name: 'otto', passwordHash: 'scrypt$16384$8$1$c2FsdA$b3Rv', role: 'operator', createdAt: 6 });
    if (version >= 3) assert.equal(await ids.removeDevice('dv'), true);
    assert.deepEqual((await ids.eventsAfter(0, 10)).map((e) => `${e.kind}:${e.id}:${e.reason}`),
      ['user:otto:password', ...(version >= 3 ? ['device:dv:removed', 'token:tokdv0000001:revoked'] : [])]);
  } finally {
    await ids.close();
  }
  // The alerts tables exist after any upgrade (SQLite v4, PostgreSQL v5).
  const al = alerts();
  try {
    await al.putRule({ name: 'r', body: '{}', updatedAt: 1 });
    await al.saveAlert({ id: 'x', rule: 'r', device: 'd', kind: 'absence', state: 'firing', value: null, message: 'm', firedAt: 1, resolvedAt: null, ackedAt: null, ackedBy: null });
    assert.equal((await al.firing()).length, 1);
  } finally {
    await al.close();
  }
}

describe('SQLite migrations', () => {
  it('apply every version to an empty database, once', async () => {
    const db = new Database(':memory:');
    assert.deepEqual(migrateSqlite(db), sqliteMigrations.map((m) => m.version));
    assert.deepEqual(migrateSqlite(db), []);
    const rows = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
    assert.deepEqual(rows, sqliteMigrations.map(({ version, name }) => ({ version, name })));
    db.close();
  });

  for (const m of sqliteMigrations.slice(0, -1)) {
    it(`upgrade a v${m.version} database holding data, keeping all of it`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'fl-mig-'));
      const path = join(dir, `v${m.version}.db`);
      const db = new Database(path);
      assert.deepEqual(migrateSqlite(db, m.version), sqliteMigrations.filter((x) => x.version <= m.version).map((x) => x.version));
      await seed(m.version, async (sql, args = []) => void db.prepare(sql).run(...args));
      db.close();
      const s = new SqliteStore({ path });
      try {
        await s.init();
        await assertUpgraded(m.version, s, () => sqliteIdentities(path), () => sqliteAlerts(path));
      } finally {
        await s.close();
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  it('refuse a database from a newer hub', () => {
    const db = new Database(':memory:');
    migrateSqlite(db);
    db.prepare("INSERT INTO schema_migrations VALUES (99, 'future', 0)").run();
    assert.throws(() => migrateSqlite(db), /version 99, newer than this hub knows/);
    db.close();
  });
});

describe('PostgreSQL migrations', () => {
  before(requirePostgres);
  const withSchema = (fn: (schema: string, c: pg.Client) => Promise<void>) => async () => {
    const schema = randomSchema();
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    try {
      await c.query(`CREATE SCHEMA "${schema}"`);
      await c.query(`SET search_path TO "${schema}"`);
      await fn(schema, c);
    } finally {
      await c.end();
      await dropSchema(schema);
    }
  };

  it('apply every version to an empty schema, once', withSchema(async (_s, c) => {
    assert.deepEqual(await migratePostgres(c), pgMigrations.map((m) => m.version));
    assert.deepEqual(await migratePostgres(c), []);
    const { rows } = await c.query('SELECT version, name FROM schema_migrations ORDER BY version');
    assert.deepEqual(rows, pgMigrations.map(({ version, name }) => ({ version, name })));
  }));

  for (const m of pgMigrations.slice(0, -1)) {
    it(`upgrade a v${m.version} schema holding data, keeping all of it`, withSchema(async (schema, c) => {
      assert.deepEqual(await migratePostgres(c, m.version), pgMigrations.filter((x) => x.version <= m.version).map((x) => x.version));
      // From v4 on, points live in day partitions that the store makes before it writes.
      if (m.version >= 4) await c.query('SELECT ensure_points_partitions($1::bigint[])', [[...new Set(v1Points.map((p) => Math.floor(p.ts / 86_400_000)))]]);
      await seed(m.version, async (sql, args = []) => {
        let n = 0;
        await c.query(sql.replace(/\?/g, () => `$${++n}`), args);
      });
      const s = new PostgresStore({ url: PG_URL, schema });
      try {
        await s.init();
        await assertUpgraded(m.version, s, () => postgresIdentities(PG_URL, schema), () => postgresAlerts(PG_URL, schema));
      } finally {
        await s.close();
      }
    }));
  }

  it('let two hubs start on one new schema at once (advisory lock)', withSchema(async (schema, c) => {
    await c.query(`DROP SCHEMA "${schema}"`); // both must create it
    const stores = [new PostgresStore({ url: PG_URL, schema }), new PostgresStore({ url: PG_URL, schema })];
    try {
      await Promise.all(stores.map((s) => s.init()));
      const { rows } = await c.query('SELECT count(*)::int AS n FROM schema_migrations');
      assert.equal(rows[0].n, pgMigrations.length);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  }));

  it('roll back a failing migration entirely', withSchema(async (_s, c) => {
    await migratePostgres(c, 1);
    await c.query('CREATE TABLE devices (x int)'); // collides with v2
    await assert.rejects(migratePostgres(c), /already exists/);
    const { rows } = await c.query("SELECT to_regclass('rollups_hourly') AS t, (SELECT max(version) FROM schema_migrations) AS v");
    assert.deepEqual(rows[0], { t: null, v: 1 });
  }));
});
