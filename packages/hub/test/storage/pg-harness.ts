/**
 * PostgreSQL for tests: each harness gets its own schema `fl_test_<random>`,
 * dropped by `destroy()`. FIELDLINK_TEST_PG_URL overrides the default server.
 * A PostgreSQL suite calls `requirePostgres()` first (in `before`, or its
 * harness does): without a server it fails with the one line of
 * scripts/postgres-peer.mjs saying what to do, never skips.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PostgresStore } from '../../src/storage/postgres.js';
import type { StoreHarness } from './contract.js';
import { installedClusters, pgUrl, postgresLine, probePostgres, type PgProbe } from '../../../../scripts/postgres-peer.mjs';

export const PG_URL = pgUrl();

let probed: Promise<PgProbe> | undefined;
/** Throws the one line (what to do) when the tests' PostgreSQL does not answer; probes once per process. */
export async function requirePostgres(): Promise<void> {
  const p = await (probed ??= probePostgres(PG_URL));
  if (!p.ok) {
    throw new Error(postgresLine(p.reason, { custom: Boolean(process.env.FIELDLINK_TEST_PG_URL), clusters: installedClusters(), isRoot: process.getuid?.() === 0 }));
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
      await requirePostgres();
      const s = new PostgresStore({ url: PG_URL, schema });
      await s.init();
      return s;
    },
    destroy: () => dropSchema(schema),
  };
}
