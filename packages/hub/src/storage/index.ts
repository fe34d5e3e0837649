/**
 * The one place that picks a store backend (design.md, "Dependency rules").
 * Everything else imports `openStore` from here and the `Store` type from types.js.
 *
 *   url absent or `sqlite:<path>`        → SQLite (`<dataDir>/fieldlink.db` by default)
 *   `postgres://…` / `postgresql://…`    → PostgreSQL
 */
import { join, resolve } from 'node:path';
import type { Durability, Store } from './types.js';
import type { RetentionOptions } from './retention.js';
import { SqliteStore } from './sqlite.js';
import { PostgresStore } from './postgres.js';
import { postgresIdentities, sqliteIdentities, type ClosableIdentityStore } from './identities.js';
import { postgresAlerts, sqliteAlerts, type AlertStore } from './alerts.js';
import { postgresLinkStore, sqliteLinkStore, type LinkStore } from './link.js';

export type { LinkStore } from './link.js';
import { postgresResumeMarks, sqliteResumeMarks, type ResumeMarkOptions, type ResumeMarks } from './resume-marks.js';

export type { AlertStore, AlertQuery } from './alerts.js';
export type { ResumeMarks, ResumeBoundary, ResumeMarkOptions } from './resume-marks.js';

export type { ClosableIdentityStore } from './identities.js';

export type { Store, Durability } from './types.js';
export type { MqttStateStore, MqttStateStats } from './mqtt-state.js';
export type { RetentionOptions } from './retention.js';
export { startRetention } from './retention.js';

/** Plain typed options; the hub's config system maps flags and env to it. */
export interface StoreOptions {
  /** `sqlite:<path>` (relative to the working directory), `postgres://…`, or absent for the default SQLite file. */
  url?: string;
  /** Directory of the default SQLite file (default `./data`); created if missing. */
  dataDir?: string;
  /** PostgreSQL schema for every table (created if missing). Ignored by SQLite. */
  schema?: string;
  /** SQLite: `process` (default; synchronous=NORMAL) or `power` (synchronous=FULL). PostgreSQL commits before ack in both. */
  durability?: Durability;
  /** PostgreSQL pool size (default 4). */
  poolMax?: number;
  /** Not used by `openStore`: the hub passes it to `startRetention(store, retention)`. */
  retention?: RetentionOptions;
}

export const DEFAULT_DATA_DIR = './data';
export const DEFAULT_SQLITE_FILE = 'fieldlink.db';

/** Open the configured backend and apply its migrations. Rejects with a readable error if it cannot. */
export async function openStore(opts: StoreOptions = {}): Promise<Store> {
  const url = opts.url?.trim() || undefined;
  let store: Store;
  if (url === undefined) {
    store = new SqliteStore({ path: resolve(join(opts.dataDir ?? DEFAULT_DATA_DIR, DEFAULT_SQLITE_FILE)), ...(opts.durability ? { durability: opts.durability } : {}) });
  } else if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '') throw new Error('store url "sqlite:" needs a path, e.g. sqlite:./data/fieldlink.db');
    store = new SqliteStore({ path: path === ':memory:' ? path : resolve(path), ...(opts.durability ? { durability: opts.durability } : {}) });
  } else if (/^postgres(ql)?:\/\//.test(url)) {
    store = new PostgresStore({ url, ...(opts.schema ? { schema: opts.schema } : {}), ...(opts.poolMax ? { poolMax: opts.poolMax } : {}) });
  } else {
    throw new Error(`unsupported store url scheme in ${JSON.stringify(url.replace(/\/\/[^@/]*@/, '//***@'))}: use sqlite:<path> or postgres://…`);
  }
  try {
    await store.init();
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return store;
}

/**
 * Identities (devices, users, tokens) in the same database as the store's
 * telemetry, through a connection of their own. Call after `openStore` (which
 * applies the migrations).
 */
export function openIdentities(opts: StoreOptions = {}): ClosableIdentityStore {
  return sideConnection(opts, sqliteIdentities, postgresIdentities);
}

/**
 * A second connection to the store's database (identities, alerts, the link, resume
 * marks): the same file or server as `openStore`, the same --durability.
 */
function sideConnection<T>(opts: StoreOptions, sqlite: (path: string, durability?: Durability) => T, postgres: (url: string, schema?: string) => T): T {
  const url = opts.url?.trim() || undefined;
  if (url === undefined) return sqlite(resolve(join(opts.dataDir ?? DEFAULT_DATA_DIR, DEFAULT_SQLITE_FILE)), opts.durability);
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    return sqlite(path === ':memory:' ? path : resolve(path), opts.durability);
  }
  return postgres(url, opts.schema);
}

/** Alert history and API-made rules, in the store's database through a connection of their own (call after `openStore`). */
export function openAlerts(opts: StoreOptions = {}): AlertStore {
  return sideConnection(opts, sqliteAlerts, postgresAlerts);
}

/** The link's outbox, marks and site tokens, through a connection of their own (call after `openStore`). */
export function openLinkStore(opts: StoreOptions = {}): LinkStore {
  return sideConnection(opts, sqliteLinkStore, postgresLinkStore);
}

/** Browser resume marks (storage/resume-marks.ts), through a connection of their own (call after `openStore`). */
export function openResumeMarks(opts: StoreOptions = {}, o: ResumeMarkOptions = {}): ResumeMarks {
  return sideConnection(opts, (path, durability) => sqliteResumeMarks(path, durability, o), (url, schema) => postgresResumeMarks(url, schema, o));
}
