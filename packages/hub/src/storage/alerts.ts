/**
 * Alert history and the rules made over the API, in the store's database
 * (schema version 5 on SQLite, 6 on PostgreSQL: "alerts: …"). As identities do,
 * each backend opens its own small connection: alert writes are rare and must
 * not queue behind telemetry batches. test/storage/alerts-contract.ts runs
 * against both.
 *
 * History is kept like telemetry is queried: a time range on `firedAt`
 * (inclusive), optional rule/device/state filters, newest first, `limit` rows.
 */
import type { Alert } from '../services/alerts/engine.js';
import type { Durability } from './types.js';
import { sidePool, sideSqlite } from './side-db.js';

export interface AlertQuery {
  from: number;
  to: number;
  rule?: string;
  device?: string;
  state?: Alert['state'];
  limit: number;
}

export interface StoredRule {
  name: string;
  /** The rule as JSON text (services/alerts/rules.ts validates it when loaded). */
  body: string;
  updatedAt: number;
}

export interface AlertStore {
  /** Insert a new alert, or replace the row with the same id (resolve, acknowledge). */
  saveAlert(a: Alert): Promise<void>;
  getAlert(id: string): Promise<Alert | undefined>;
  alerts(q: AlertQuery): Promise<Alert[]>;
  /** Every alert still firing (engine restore after a restart). */
  firing(): Promise<Alert[]>;
  rules(): Promise<StoredRule[]>;
  putRule(r: StoredRule): Promise<void>;
  removeRule(name: string): Promise<boolean>;
  close(): Promise<void>;
}

type Row = Record<string, unknown>;
const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const alert = (r: Row): Alert => ({
  id: String(r.id), rule: String(r.rule), device: String(r.device), kind: r.kind as Alert['kind'], state: r.state as Alert['state'],
  value: n(r.value), message: String(r.message), firedAt: Number(r.fired_at), resolvedAt: n(r.resolved_at), ackedAt: n(r.acked_at),
  ackedBy: r.acked_by === null ? null : String(r.acked_by),
});

/** Shared SQL; `$n` becomes `?` on SQLite, so placeholders appear in order. */
const SQL = {
  save: `INSERT INTO alerts (id, rule, device, kind, state, value, message, fired_at, resolved_at, acked_at, acked_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (id) DO UPDATE SET state = excluded.state, value = excluded.value, message = excluded.message,
           resolved_at = excluded.resolved_at, acked_at = excluded.acked_at, acked_by = excluded.acked_by`,
  get: 'SELECT * FROM alerts WHERE id = $1',
  firing: "SELECT * FROM alerts WHERE state = 'firing' ORDER BY fired_at, id",
  rules: 'SELECT * FROM alert_rules ORDER BY name',
  putRule: 'INSERT INTO alert_rules (name, body, updated_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at',
  removeRule: 'DELETE FROM alert_rules WHERE name = $1',
} as const;

function query(q: AlertQuery): { sql: string; args: unknown[] } {
  const args: unknown[] = [q.from, q.to];
  let sql = 'SELECT * FROM alerts WHERE fired_at >= $1 AND fired_at <= $2';
  for (const [col, v] of [['rule', q.rule], ['device', q.device], ['state', q.state]] as const) {
    if (v === undefined) continue;
    args.push(v);
    sql += ` AND ${col} = $${args.length}`;
  }
  args.push(q.limit);
  return { sql: `${sql} ORDER BY fired_at DESC, id DESC LIMIT $${args.length}`, args };
}

interface Exec {
  rows(sql: string, args: unknown[]): Promise<Row[]>;
  run(sql: string, args: unknown[]): Promise<number>;
  close(): Promise<void>;
}

function alertStore(x: Exec): AlertStore {
  return {
    saveAlert: async (a) => void (await x.run(SQL.save, [a.id, a.rule, a.device, a.kind, a.state, a.value, a.message, a.firedAt, a.resolvedAt, a.ackedAt, a.ackedBy])),
    getAlert: async (id) => ((r) => (r ? alert(r) : undefined))((await x.rows(SQL.get, [id]))[0]),
    alerts: async (q) => {
      const { sql, args } = query(q);
      return (await x.rows(sql, args)).map(alert);
    },
    firing: async () => (await x.rows(SQL.firing, [])).map(alert),
    rules: async () => (await x.rows(SQL.rules, [])).map((r) => ({ name: String(r.name), body: String(r.body), updatedAt: Number(r.updated_at) })),
    putRule: async (r) => void (await x.run(SQL.putRule, [r.name, r.body, r.updatedAt])),
    removeRule: async (name) => (await x.run(SQL.removeRule, [name])) > 0,
    close: x.close,
  };
}

/** `durability` as the store's (--durability): this connection's PRAGMA synchronous. */
export function sqliteAlerts(path: string, durability: Durability = 'process'): AlertStore {
  const db = sideSqlite(path, durability);
  const q = (sql: string) => db.prepare(sql.replace(/\$\d+/g, '?'));
  return alertStore({
    rows: async (sql, args) => q(sql).all(...args) as Row[],
    run: async (sql, args) => q(sql).run(...args).changes,
    close: async () => void db.close(),
  });
}

export function postgresAlerts(url: string, schema?: string): AlertStore {
  const pool = sidePool(url, schema);
  return alertStore({
    rows: async (sql, args) => (await pool.query(sql, args)).rows as Row[],
    run: async (sql, args) => (await pool.query(sql, args)).rowCount ?? 0,
    close: () => pool.end(),
  });
}
