/**
 * The store's side connections (identities, alerts, the link, resume marks): a
 * second connection to the database `openStore` opened and migrated, making the
 * same promise as the store's own (docs/storage.md, "Durability modes"): SQLite's
 * `synchronous` from --durability, PostgreSQL's synchronous_commit=on.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { migrateSqlite } from './sqlite-migrations.js';
import type { Durability } from './types.js';

export function sideSqlite(path: string, durability: Durability = 'process'): Database.Database {
  const db = new Database(path);
  db.pragma('busy_timeout = 5000');
  db.pragma(`synchronous = ${durability === 'power' ? 'FULL' : 'NORMAL'}`);
  // A no-op where the store already migrated this file; for ':memory:' this connection is its own database.
  migrateSqlite(db);
  return db;
}

export function sidePool(url: string, schema?: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 2, ...(schema ? { options: `-c search_path=${schema}` } : {}) });
  pool.on('error', () => undefined); // an idle client losing its connection must not crash the hub; the next query reports it
  // As postgres.ts: queued on each new connection ahead of its first query (a link batch or an alert is acknowledged after its commit).
  pool.on('connect', (c) => { c.query('SET synchronous_commit = on').catch(() => undefined); });
  return pool;
}
