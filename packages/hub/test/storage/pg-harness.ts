/**
 * PostgreSQL for tests: each harness gets its own schema `fl_test_<random>`,
 * dropped by `destroy()`. FIELDLINK_TEST_PG_URL overrides the default server;
 * `pgAvailable()` lets a suite skip (with a reason) when no server is reachable.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PostgresStore } from '../../src/storage/postgres.js';
import type { StoreHarness } from './contract.js';

export const PG_URL = process.env.FIELDLINK_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export async function pgAvailable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

export async function dropSchema(schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await c.end();
  }
}

export function randomSchema(): string {
  return `fl_test_${randomBytes(6).toString('hex')}`;
}

export async function pgHarness(): Promise<StoreHarness & { schema: string }> {
  const schema = randomSchema();
  return {
    schema,
    async open() {
      const s = new PostgresStore({ url: PG_URL, schema });
      await s.init();
      return s;
    },
    destroy: () => dropSchema(schema),
  };
}
