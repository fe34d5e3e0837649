import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { PostgresStore } from '../../src/storage/postgres.js';
import { storeContract } from './contract.js';
import { PG_URL, dropSchema, pgHarness, randomSchema, requirePostgres } from './pg-harness.js';

storeContract('postgres', pgHarness); // its open() fails with what to do when no PostgreSQL answers

describe('PostgresStore connection errors', () => {
  it('rejects init with a clear message, without the password, when the server is unreachable', async () => {
    const s = new PostgresStore({ url: 'postgres://fl:secret@127.0.0.1:1/none', connectTimeoutMs: 1000 });
    try {
      await assert.rejects(s.init(), (err: Error) => {
        assert.match(err.message, /PostgreSQL at postgres:\/\/fl:\*\*\*@127\.0\.0\.1:1\/none is unreachable/);
        assert.doesNotMatch(err.message, /secret/);
        return true;
      });
    } finally {
      await s.close();
    }
  });

  it('refuses a schema name that is not a plain identifier', () => {
    assert.throws(() => new PostgresStore({ url: 'postgres://x@127.0.0.1/test', schema: 'a"; DROP SCHEMA public; --' }), RangeError);
  });
});

describe('PostgreSQL day partitions', () => {
  before(requirePostgres);
  const DAY = 86_400_000;
  const T0 = Date.UTC(2026, 0, 30, 22); // two hours before midnight
  const partitions = async (c: pg.Client, schema: string) => (await c.query<{ name: string; n: number }>(
    `SELECT c.relname AS name, (SELECT count(*) FROM pg_inherits WHERE inhparent = c.oid)::int AS n FROM pg_inherits i
     JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace s ON s.oid = c.relnamespace
     WHERE i.inhparent = (SELECT oid FROM pg_class WHERE relname = 'points' AND relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = $1))
     ORDER BY 1`, [schema])).rows.map((r) => r.name);

  it('a batch across midnight lands in one partition per day (and the next day is made ahead); stores starting together create each once', async () => {
    const schema = randomSchema();
    const stores = [new PostgresStore({ url: PG_URL, schema }), new PostgresStore({ url: PG_URL, schema })];
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    try {
      await Promise.all(stores.map((s) => s.init()));
      const pts = (dev: string) => Array.from({ length: 240 }, (_, i) => ({ device: dev, metric: 'm', ts: T0 + i * 60_000, value: i })); // 22:00 → 02:00
      await Promise.all([stores[0]!.append(pts('a')), stores[1]!.append(pts('b'))]);
      assert.deepEqual(await partitions(c, schema), ['points_20260130', 'points_20260131', 'points_20260201']);
      const { rows } = await c.query(`SELECT tableoid::regclass::text AS part, count(*)::int AS n FROM "${schema}".points GROUP BY 1 ORDER BY 1`);
      assert.deepEqual(rows.map((r: { part: string; n: number }) => [r.part.replace(/^.*\./, ''), r.n]), [['points_20260130', 240], ['points_20260131', 240]]);
      for (const dev of ['a', 'b']) assert.equal(await stores[0]!.count({ device: dev, metric: 'm', from: 0, to: T0 + DAY }), 240);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await c.end();
      await dropSchema(schema);
    }
  });

  it('prune drops whole days before the cutoff as partitions, trims the day it falls in, and new points for a dropped day still land', async () => {
    const schema = randomSchema();
    const s = new PostgresStore({ url: PG_URL, schema });
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    try {
      await s.init();
      const days = Array.from({ length: 5 * 24 }, (_, i) => ({ device: 'd', metric: 'm', ts: Date.UTC(2026, 0, 1) + i * 3_600_000, value: i })); // Jan 1-5, hourly
      await s.append(days);
      const cutoff = Date.UTC(2026, 0, 3, 6); // Jan 3, 06:00
      assert.equal(await s.prune(cutoff, 10), 24, 'one step drops one whole day (24 rows, more than the chunk of 10)');
      assert.equal(await s.prune(cutoff, 10), 24, 'then the next');
      assert.equal(await s.prune(cutoff, 10), 6, 'then rows of Jan 3 before 06:00, a chunk at most');
      assert.equal(await s.prune(cutoff, 10), 0);
      assert.deepEqual(await partitions(c, schema), ['points_20260103', 'points_20260104', 'points_20260105', 'points_20260106']);
      const left = await s.raw({ device: 'd', metric: 'm', from: 0, to: Date.UTC(2026, 1, 1), limit: 1000 });
      assert.equal(left.length, 5 * 24 - 54);
      assert.equal(left[0]!.ts, cutoff);
      // Bucketed history of the dropped days still answers from rollups; a late point for Jan 1 gets its partition back.
      assert.equal((await s.buckets({ device: 'd', metric: 'm', from: Date.UTC(2026, 0, 1), to: Date.UTC(2026, 0, 2) - 1, limit: 10, bucketMs: DAY }))[0]!.count, 24);
      await s.append([{ device: 'd', metric: 'm', ts: Date.UTC(2026, 0, 1, 12, 30), value: 1 }]);
      assert.equal(await s.count({ device: 'd', metric: 'm', from: Date.UTC(2026, 0, 1, 12, 30), to: Date.UTC(2026, 0, 1, 12, 30) }), 1);
      assert.equal(await s.prune(cutoff), 1, 'without maxRows: everything before the cutoff at once');
      // Another hub on the same database dropped a day this store still believes exists.
      const other = new PostgresStore({ url: PG_URL, schema });
      await other.init();
      await other.prune(Date.UTC(2026, 0, 4));
      await other.close();
      await s.append([{ device: 'd', metric: 'm', ts: Date.UTC(2026, 0, 3, 20), value: 2 }]);
      assert.deepEqual(await s.raw({ device: 'd', metric: 'm', from: Date.UTC(2026, 0, 3), to: Date.UTC(2026, 0, 4) - 1, limit: 10 }), [{ ts: Date.UTC(2026, 0, 3, 20), value: 2 }]);
      // Two hubs' retention at once on one database: each day is dropped once, neither fails.
      const twin = new PostgresStore({ url: PG_URL, schema });
      await twin.init();
      await Promise.all([s.prune(Date.UTC(2026, 0, 4, 6)), twin.prune(Date.UTC(2026, 0, 4, 6))]);
      await twin.close();
      assert.deepEqual(await partitions(c, schema), ['points_20260104', 'points_20260105', 'points_20260106']);
      // Past the last day: the empty day made ahead (Jan 6) goes too, without ending a step early.
      let total = 0;
      for (let n = -1; n !== 0; total += n) n = await s.prune(Date.UTC(2026, 0, 8), 10);
      assert.equal(total, 2 * 24 - 6);
      assert.deepEqual(await partitions(c, schema), []);
    } finally {
      await s.close();
      await c.end();
      await dropSchema(schema);
    }
  });
});
