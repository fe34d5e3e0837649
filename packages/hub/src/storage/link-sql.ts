/**
 * The link's tables (docs/link.md) and the writes that ride in a telemetry
 * append's transaction (`Store.append(points, link)`).
 *
 * Site: `link_lanes` numbers each lane's log (epoch, next seq, acknowledged up
 * to) and keeps its outbox's row and byte totals (so bounding it never scans it); `link_outbox` holds the records not yet acknowledged by central. The
 * outbox row of a reading commits with the reading, so once the hub
 * acknowledges a device after commit (PUBACK after commit), an acknowledged
 * reading is in the outbox. `link_executed` remembers command ids run here.
 * Central: `link_marks` is the high-water mark per (site, lane), written in the
 * transaction that stores the batch it covers, fenced on the mark it read (a
 * stale session, or a second writer, fails instead of moving it);
 * `link_events` keeps gaps and epoch changes; `link_commands` the commands
 * queued for a site that is offline (until delivered or past their deadline);
 * `link_site_tokens` the hashed per-site tokens.
 */
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import type pg from 'pg';
import type { LinkLane } from '@fieldlink/protocol';

export interface OutboxEntry { lane: LinkLane; ts: number; body: string; via?: string[] }
export interface MarkWrite { site: string; lane: LinkLane; epoch: string; seq: number; prev: { epoch: string; seq: number } | null }
export interface LinkEventRow {
  site: string; lane: LinkLane; kind: 'gap' | 'epoch'; epoch: string; fromSeq: number; toSeq: number;
  reason: string; count: number; detail: string; at: number;
}
/** What an append commits besides its points. */
export interface LinkWrite { outbox?: OutboxEntry[]; mark?: MarkWrite; events?: LinkEventRow[] }

/** Thrown inside the transaction when the mark is not what the writer read: nothing of the batch is stored. */
export class MarkFenceError extends Error {
  override readonly name = 'MarkFenceError';
}

/** By name: the SQLite writer runs in a worker, whose errors arrive rebuilt with their name only. */
export const isMarkFence = (err: unknown): boolean => (err as Error | undefined)?.name === 'MarkFenceError';

export const newEpoch = () => randomBytes(9).toString('base64url');

export function linkSchema(dialect: 'sqlite' | 'postgres'): string {
  const big = dialect === 'sqlite' ? 'INTEGER' : 'bigint';
  const serial = dialect === 'sqlite' ? 'INTEGER PRIMARY KEY AUTOINCREMENT' : 'bigserial PRIMARY KEY';
  return `
    CREATE TABLE link_lanes (lane TEXT PRIMARY KEY, epoch TEXT NOT NULL, next_seq ${big} NOT NULL, acked ${big} NOT NULL,
      rows ${big} NOT NULL DEFAULT 0, bytes ${big} NOT NULL DEFAULT 0);
    CREATE TABLE link_outbox (
      lane TEXT NOT NULL, seq ${big} NOT NULL, from_seq ${big} NOT NULL, ts ${big} NOT NULL, bytes ${big} NOT NULL,
      body TEXT NOT NULL, via TEXT, PRIMARY KEY (lane, seq));
    CREATE TABLE link_executed (id TEXT PRIMARY KEY, at ${big} NOT NULL);
    CREATE INDEX link_executed_at ON link_executed (at);
    CREATE TABLE link_marks (site TEXT NOT NULL, lane TEXT NOT NULL, epoch TEXT NOT NULL, seq ${big} NOT NULL, updated_at ${big} NOT NULL,
      PRIMARY KEY (site, lane));
    CREATE TABLE link_events (id ${serial}, site TEXT NOT NULL, lane TEXT NOT NULL, kind TEXT NOT NULL, epoch TEXT NOT NULL,
      from_seq ${big} NOT NULL, to_seq ${big} NOT NULL, reason TEXT NOT NULL, count ${big} NOT NULL, detail TEXT NOT NULL, at ${big} NOT NULL);
    CREATE INDEX link_events_site ON link_events (site, at);
    CREATE TABLE link_commands (id TEXT PRIMARY KEY, site TEXT NOT NULL, device TEXT NOT NULL, method TEXT NOT NULL, params TEXT NOT NULL,
      deadline ${big} NOT NULL, created_at ${big} NOT NULL);
    CREATE INDEX link_commands_site ON link_commands (site, created_at);
    CREATE TABLE link_site_tokens (id TEXT PRIMARY KEY, site TEXT NOT NULL, hash TEXT NOT NULL, created_at ${big} NOT NULL, revoked_at ${big});
    CREATE INDEX link_site_tokens_site ON link_site_tokens (site);
  `;
}

const SQL = {
  lane: 'SELECT epoch, next_seq FROM link_lanes WHERE lane = $1',
  newLane: 'INSERT INTO link_lanes (lane, epoch, next_seq, acked) VALUES ($1, $2, 1, 0) ON CONFLICT (lane) DO NOTHING',
  setNext: 'UPDATE link_lanes SET next_seq = $1, rows = rows + $2, bytes = bytes + $3 WHERE lane = $4',
  outbox: 'INSERT INTO link_outbox (lane, seq, from_seq, ts, bytes, body, via) VALUES ($1, $2, $3, $4, $5, $6, $7)',
  newMark: 'INSERT INTO link_marks (site, lane, epoch, seq, updated_at) VALUES ($1, $2, $3, $4, $5)',
  moveMark: 'UPDATE link_marks SET epoch = $1, seq = $2, updated_at = $3 WHERE site = $4 AND lane = $5 AND epoch = $6 AND seq = $7',
  event: `INSERT INTO link_events (site, lane, kind, epoch, from_seq, to_seq, reason, count, detail, at)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
} as const;

type Op = ['run' | 'get', string, unknown[]];
type Row = Record<string, unknown> | undefined;

/**
 * The writes of `w`, in the caller's open transaction, as a generator of SQL
 * steps: written once for both dialects, driven synchronously for SQLite
 * (better-sqlite3) and asynchronously for PostgreSQL. `run` steps resume with
 * the changed row count, `get` steps with the first row.
 */
function* write(w: LinkWrite, now: number): Generator<Op, void, unknown> {
  const byLane = new Map<LinkLane, OutboxEntry[]>();
  for (const e of w.outbox ?? []) (byLane.get(e.lane) ?? byLane.set(e.lane, []).get(e.lane)!).push(e);
  for (const [lane, entries] of byLane) {
    yield ['run', SQL.newLane, [lane, newEpoch()]];
    const row = (yield ['get', SQL.lane, [lane]]) as Row;
    let seq = Number(row!.next_seq), bytes = 0;
    for (const e of entries) {
      const n = Buffer.byteLength(e.body);
      yield ['run', SQL.outbox, [lane, seq, seq, e.ts, n, e.body, e.via?.length ? JSON.stringify(e.via) : null]];
      bytes += n;
      seq++;
    }
    yield ['run', SQL.setNext, [seq, entries.length, bytes, lane]];
  }
  for (const e of w.events ?? []) yield ['run', SQL.event, [e.site, e.lane, e.kind, e.epoch, e.fromSeq, e.toSeq, e.reason, e.count, e.detail, e.at]];
  const m = w.mark;
  if (!m) return;
  if (m.prev === null) {
    if ((yield ['get', 'SELECT 1 AS x FROM link_marks WHERE site = $1 AND lane = $2', [m.site, m.lane]]) as Row) throw new MarkFenceError(`mark of ${m.site}/${m.lane} exists`);
    yield ['run', SQL.newMark, [m.site, m.lane, m.epoch, m.seq, now]];
  } else if (((yield ['run', SQL.moveMark, [m.epoch, m.seq, now, m.site, m.lane, m.prev.epoch, m.prev.seq]]) as number) !== 1) {
    throw new MarkFenceError(`mark of ${m.site}/${m.lane} moved since it was read`);
  }
}

/** SQLite: the link writes inside the writer's open transaction (sqlite-engine.ts). */
export function sqliteLinkWriter(db: Database.Database): (w: LinkWrite) => void {
  const cache = new Map<string, Database.Statement>();
  const st = (sql: string) => cache.get(sql) ?? cache.set(sql, db.prepare(sql.replace(/\$\d+/g, '?'))).get(sql)!;
  return (w) => {
    const g = write(w, Date.now());
    for (let r = g.next(); !r.done;) {
      const [kind, sql, args] = r.value;
      r = g.next(kind === 'run' ? st(sql).run(...args).changes : st(sql).get(...args));
    }
  };
}

/** PostgreSQL: the same writes on the client holding the append's transaction. */
export async function pgLinkWrite(client: pg.PoolClient, w: LinkWrite): Promise<void> {
  const g = write(w, Date.now());
  for (let r = g.next(); !r.done;) {
    const [kind, sql, args] = r.value;
    const res = await client.query(sql, args);
    r = g.next(kind === 'run' ? res.rowCount ?? 0 : res.rows[0]);
  }
}
