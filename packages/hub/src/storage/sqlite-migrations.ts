/**
 * SQLite schema, as a versioned list. Append only: a released migration is never
 * edited, a change is a new entry. Each pending migration runs in its own
 * transaction together with its `schema_migrations` row, so a crash leaves the
 * database at a whole version.
 */
import type Database from 'better-sqlite3';
import { linkSchema } from './link-sql.js';

export interface SqliteMigration {
  version: number;
  name: string;
  sql: string;
}

/** Milliseconds since the epoch, in SQL (julianday of the Unix epoch is 2440587.5). */
const NOW_MS = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";

export const sqliteMigrations: readonly SqliteMigration[] = [
  {
    version: 1,
    name: 'series and points',
    sql: `
      CREATE TABLE series (
        id INTEGER PRIMARY KEY,
        device TEXT NOT NULL,
        metric TEXT NOT NULL,
        UNIQUE (device, metric)
      );
      -- Clustered on (series_id, ts): a history query is one contiguous range scan.
      CREATE TABLE points (
        series_id INTEGER NOT NULL,
        ts INTEGER NOT NULL,
        value REAL NOT NULL,
        PRIMARY KEY (series_id, ts)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    name: 'hourly rollups and devices',
    sql: `
      CREATE TABLE rollups_hourly (
        series_id INTEGER NOT NULL,
        hour INTEGER NOT NULL,
        vmin REAL NOT NULL,
        vmax REAL NOT NULL,
        vsum REAL NOT NULL,
        n INTEGER NOT NULL,
        last REAL NOT NULL,
        last_ts INTEGER NOT NULL,
        PRIMARY KEY (series_id, hour)
      ) WITHOUT ROWID;
      -- Backfill from the points a v1 database already holds.
      INSERT INTO rollups_hourly (series_id, hour, vmin, vmax, vsum, n, last, last_ts)
      SELECT g.series_id, g.hour, g.vmin, g.vmax, g.vsum, g.n,
             (SELECT p.value FROM points p WHERE p.series_id = g.series_id AND p.ts = g.last_ts), g.last_ts
      FROM (SELECT series_id, ts - ts % 3600000 AS hour, min(value) AS vmin, max(value) AS vmax,
                   sum(value) AS vsum, count(*) AS n, max(ts) AS last_ts
            FROM points GROUP BY series_id, hour) g;
      CREATE TABLE devices (
        id TEXT PRIMARY KEY,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        online INTEGER NOT NULL,
        last TEXT NOT NULL,
        meta TEXT
      );
    `,
  },
  {
    version: 3,
    name: 'identities: device credentials, users, API tokens',
    sql: `
      CREATE TABLE identity_devices (id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE TABLE identity_users (name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE TABLE identity_tokens (
        id TEXT PRIMARY KEY, hash TEXT NOT NULL, name TEXT NOT NULL, role TEXT NOT NULL, subject TEXT,
        created_at INTEGER NOT NULL, expires_at INTEGER, revoked_at INTEGER
      );
    `,
  },
  {
    version: 4,
    name: 'identity events: a numbered log of changes that end access',
    // Written by triggers, so every change is logged in its own transaction
    // whoever makes it (the admin CLI, a test, a hand-written UPDATE). Hubs poll
    // it by seq (auth/revocation.ts); AUTOINCREMENT never reuses a seq, even
    // after old events are pruned. Removing a device or user also revokes the
    // tokens that act for it (and that logs those tokens' events).
    sql: `
      CREATE TABLE identity_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, id TEXT NOT NULL, reason TEXT NOT NULL, at INTEGER NOT NULL
      );
      CREATE INDEX identity_events_at ON identity_events (at);
      CREATE TRIGGER identity_devices_rotated AFTER UPDATE OF secret_hash ON identity_devices
        WHEN OLD.secret_hash IS NOT NEW.secret_hash
        BEGIN INSERT INTO identity_events (kind, id, reason, at) VALUES ('device', OLD.id, 'rotated', ${NOW_MS}); END;
      CREATE TRIGGER identity_devices_removed AFTER DELETE ON identity_devices BEGIN
        INSERT INTO identity_events (kind, id, reason, at) VALUES ('device', OLD.id, 'removed', ${NOW_MS});
        UPDATE identity_tokens SET revoked_at = ${NOW_MS} WHERE role = 'device' AND subject = OLD.id AND revoked_at IS NULL;
      END;
      CREATE TRIGGER identity_users_changed AFTER UPDATE ON identity_users
        WHEN OLD.password_hash IS NOT NEW.password_hash OR OLD.role IS NOT NEW.role
        BEGIN INSERT INTO identity_events (kind, id, reason, at)
          VALUES ('user', OLD.name, CASE WHEN OLD.password_hash IS NOT NEW.password_hash THEN 'password' ELSE 'role' END, ${NOW_MS}); END;
      CREATE TRIGGER identity_users_removed AFTER DELETE ON identity_users BEGIN
        INSERT INTO identity_events (kind, id, reason, at) VALUES ('user', OLD.name, 'removed', ${NOW_MS});
        UPDATE identity_tokens SET revoked_at = ${NOW_MS} WHERE role <> 'device' AND subject = OLD.name AND revoked_at IS NULL;
      END;
      CREATE TRIGGER identity_tokens_changed AFTER UPDATE ON identity_tokens
        WHEN OLD.revoked_at IS NOT NEW.revoked_at OR OLD.expires_at IS NOT NEW.expires_at OR OLD.hash IS NOT NEW.hash
          OR OLD.role IS NOT NEW.role OR OLD.subject IS NOT NEW.subject
        BEGIN INSERT INTO identity_events (kind, id, reason, at)
          VALUES ('token', OLD.id, CASE WHEN OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL THEN 'revoked' ELSE 'changed' END, ${NOW_MS}); END;
      CREATE TRIGGER identity_tokens_removed AFTER DELETE ON identity_tokens
        BEGIN INSERT INTO identity_events (kind, id, reason, at) VALUES ('token', OLD.id, 'removed', ${NOW_MS}); END;
    `,
  },
  {
    version: 5,
    name: 'alerts: rule definitions made over the API, alert history',
    sql: `
      CREATE TABLE alert_rules (name TEXT PRIMARY KEY, body TEXT NOT NULL, updated_at INTEGER NOT NULL);
      CREATE TABLE alerts (
        id TEXT PRIMARY KEY, rule TEXT NOT NULL, device TEXT NOT NULL, kind TEXT NOT NULL, state TEXT NOT NULL,
        value REAL, message TEXT NOT NULL, fired_at INTEGER NOT NULL, resolved_at INTEGER, acked_at INTEGER, acked_by TEXT
      );
      CREATE INDEX alerts_fired ON alerts (fired_at);
      CREATE INDEX alerts_firing ON alerts (state) WHERE state = 'firing';
    `,
  },
  {
    version: 6,
    name: 'mqtt engine state: sessions, subscriptions, outbound and inbound in flight, wills, retained',
    // Rows of one session share its client_id prefix (WITHOUT ROWID, primary key first), so a
    // session's delete touches adjacent pages only. No foreign keys: deleteSession deletes by prefix.
    sql: `
      CREATE TABLE mqtt_sessions (
        client_id TEXT PRIMARY KEY, protocol INTEGER NOT NULL, expiry_sec INTEGER NOT NULL, owner TEXT, expires_at INTEGER
      ) WITHOUT ROWID;
      CREATE TABLE mqtt_subscriptions (
        client_id TEXT NOT NULL, key TEXT NOT NULL, qos INTEGER NOT NULL, nl INTEGER NOT NULL, rap INTEGER NOT NULL,
        rh INTEGER NOT NULL, sub_id INTEGER NOT NULL, PRIMARY KEY (client_id, key)
      ) WITHOUT ROWID;
      CREATE TABLE mqtt_outbound (
        client_id TEXT NOT NULL, seq INTEGER NOT NULL, topic TEXT NOT NULL, payload BLOB NOT NULL, msg_qos INTEGER NOT NULL,
        msg_retain INTEGER NOT NULL, props TEXT, ts INTEGER NOT NULL, qos INTEGER NOT NULL, retain INTEGER NOT NULL,
        ids TEXT, pid INTEGER NOT NULL, state TEXT NOT NULL, PRIMARY KEY (client_id, seq)
      ) WITHOUT ROWID;
      CREATE TABLE mqtt_inflight_in (client_id TEXT NOT NULL, pid INTEGER NOT NULL, PRIMARY KEY (client_id, pid)) WITHOUT ROWID;
      CREATE TABLE mqtt_wills (
        client_id TEXT PRIMARY KEY, topic TEXT NOT NULL, payload BLOB NOT NULL, qos INTEGER NOT NULL, retain INTEGER NOT NULL,
        props TEXT, ts INTEGER NOT NULL, delay_sec INTEGER NOT NULL, will_at INTEGER
      ) WITHOUT ROWID;
      CREATE TABLE mqtt_retained (
        topic TEXT PRIMARY KEY, payload BLOB NOT NULL, qos INTEGER NOT NULL, props TEXT, ts INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  { version: 7, name: 'link: outbox, lanes, marks, events, site tokens', sql: linkSchema('sqlite') },
  {
    version: 8,
    name: 'browser resume marks: (epoch, seq) of each telemetry push and the stored ts it carried',
    // resume_epochs.hi: highest seq whose mark is committed; floor: marks at or below it were pruned or dropped.
    sql: `
      CREATE TABLE resume_epochs (epoch TEXT PRIMARY KEY, started_at INTEGER NOT NULL, floor INTEGER NOT NULL, hi INTEGER NOT NULL);
      CREATE TABLE resume_marks (
        epoch TEXT NOT NULL, seq INTEGER NOT NULL, device TEXT NOT NULL, ts INTEGER NOT NULL, at INTEGER NOT NULL,
        PRIMARY KEY (epoch, seq)
      ) WITHOUT ROWID;
    `,
  },
];

/** Apply pending migrations up to `target` (default: all). Returns the versions applied. */
export function migrateSqlite(db: Database.Database, target = Infinity): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version),
  );
  const newest = Math.max(0, ...applied);
  const known = sqliteMigrations.at(-1)?.version ?? 0;
  if (newest > known) {
    throw new Error(`database schema is version ${newest}, newer than this hub knows (${known}): upgrade the hub`);
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  const done: number[] = [];
  for (const m of sqliteMigrations) {
    if (m.version > target || applied.has(m.version)) continue;
    // IMMEDIATE: take the write lock first, so two processes cannot both apply it.
    db.transaction(() => {
      // Re-check under the lock: another process may have applied it meanwhile.
      if (db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(m.version)) return;
      db.exec(m.sql);
      record.run(m.version, m.name, Date.now());
    }).immediate();
    done.push(m.version);
  }
  return done;
}
