// Broker state (core engine) across clean restarts and kill -9 of a real hub process on
// PostgreSQL (its own schema): the same suite as on SQLite (durable-suite.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { restartSuite } from './durable-suite.js';
import { PG_URL, dropSchema, randomSchema, requirePostgres } from './storage/pg-harness.js';

restartSuite('PostgreSQL', async () => {
  await requirePostgres();
  const schema = randomSchema();
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`CREATE SCHEMA "${schema}"`);
  await c.end();
  const dir = await mkdtemp(join(tmpdir(), 'fl-durable-pg-'));
  return {
    args: ['--data-dir', dir, '--store', `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`],
    cleanup: async () => { await dropSchema(schema); await rm(dir, { recursive: true, force: true }); },
  };
});
