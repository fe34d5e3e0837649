// Migrations of both backends: from an empty database, from the previous version
// (v1 data must be rolled up by v2), idempotence, and refusal of a newer schema.
import { describe, it } from 'node:test';
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
import { naiveBuckets } from './contract.js';
import { PG_URL, dropSchema, pgAvailable, randomSchema } from './pg-harness.js';

const T0 = Date.UTC(2025, 0, 1);
const H = 3_600_000;
const v1Points = Array.from({ length: 500 }, (_, i) => ({ device: 'd', metric: 'm', ts: T0 + i * 37_000, value: (i * 13) % 17 }));

/** What a v2 store must see after upgrading a v1 database holding v1Points. */
async function assertUpgraded(s: Store): Promise<void> {
  assert.deepEqual(await s.buckets({ device: 'd', metric: 'm', from: T0, to: T0 + 6 * H - 1, limit: 100, bucketMs: H }),
    naiveBuckets(v1Points, T0, T0 + 6 * H - 1, H));
  await s.append([{ device: 'd', metric: 'm', ts: T0 + 10, value: 100 }]); // lands in a backfilled rollup row
  const [b] = await s.buckets({ device: 'd', metric: 'm', from: T0, to: T0 + H - 1, limit: 1, bucketMs: H });
  assert.equal(b!.max, 100);
  await s.upsertDevice({ id: 'd', firstSeen: 1, lastSeen: 1, online: true, last: {}, meta: null });
  assert.equal((await s.devices()).length, 1);
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

  it('upgrade a v1 database, rolling up the points it already holds', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fl-mig-'));
    const path = join(dir, 'v1.db');
    const db = new Database(path);
    assert.deepEqual(migrateSqlite(db, 1), [1]);
    db.prepare("INSERT INTO series (id, device, metric) VALUES (1, 'd', 'm')").run();
    const ins = db.prepare('INSERT INTO points VALUES (1, ?, ?)');
    for (const p of v1Points) ins.run(p.ts, p.value);
    db.close();
    const s = new SqliteStore({ path });
    try {
      await s.init();
      await assertUpgraded(s);
    } finally {
      await s.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuse a database from a newer hub', () => {
    const db = new Database(':memory:');
    migrateSqlite(db);
    db.prepare("INSERT INTO schema_migrations VALUES (99, 'future', 0)").run();
    assert.throws(() => migrateSqlite(db), /version 99, newer than this hub knows/);
    db.close();
  });
});

describe('PostgreSQL migrations', { skip: !(await pgAvailable()) && 'PostgreSQL not reachable' }, () => {
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

  it('upgrade a v1 schema, rolling up the points it already holds', withSchema(async (schema, c) => {
    assert.deepEqual(await migratePostgres(c, 1), [1]);
    await c.query("INSERT INTO series (id, device, metric) VALUES (1, 'd', 'm')");
    await c.query('INSERT INTO points SELECT 1, * FROM unnest($1::bigint[], $2::float8[])', [v1Points.map((p) => p.ts), v1Points.map((p) => p.value)]);
    const s = new PostgresStore({ url: PG_URL, schema });
    try {
      await s.init();
      await assertUpgraded(s);
    } finally {
      await s.close();
    }
  }));

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
