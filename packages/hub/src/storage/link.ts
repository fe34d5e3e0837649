/**
 * The link's own connection to the store's database (tables: link-sql.ts),
 * for everything that does not ride in a telemetry append: reading and
 * acknowledging the site's outbox, bounding it with gap records, the executed
 * command ids, central's marks and events, and the per-site tokens. As
 * identities and alerts do, each backend opens a small connection of its own.
 * test/link/store.test.ts runs against both.
 */
import { pgTransaction } from './pg-tx.js';
import type { Durability } from './types.js';
import { sidePool, sideSqlite } from './side-db.js';
import type Database from 'better-sqlite3';
import type { GapBody, LaneMark, LinkLane } from '@fieldlink/protocol';
import type { LinkEventRow } from './link-sql.js';

export interface OutboxRow { lane: LinkLane; seq: number; from: number; ts: number; bytes: number; body: string; via: string[] | null }
export interface LaneState { lane: LinkLane; epoch: string; nextSeq: number; acked: number }
export interface OutboxFill { records: number; bytes: number; oldestTs: number | null }
export interface QueuedCommand { id: string; site: string; device: string; method: string; params: Record<string, unknown>; deadline: number; createdAt: number }
export interface SiteToken { id: string; site: string; hash: string; createdAt: number; revokedAt: number | null }
/** What one `evict` dropped: records `from`…`to` became one gap record. */
export interface Eviction { reason: GapBody['reason']; from: number; to: number; count: number }

export interface LinkStore {
  lanes(): Promise<LaneState[]>;
  /** Outbox rows of `lane` after `afterSeq`, in seq order, at most `limit` rows and about `maxBytes`. */
  outbox(lane: LinkLane, afterSeq: number, limit: number, maxBytes: number): Promise<OutboxRow[]>;
  /** Central has `lane` up to `seq` of `epoch`: drop those rows. Returns rows deleted (0 for another epoch). */
  ack(lane: LinkLane, epoch: string, seq: number): Promise<number>;
  fill(lane: LinkLane): Promise<OutboxFill>;
  /**
   * Bound the lane: while it holds more than `maxBytes`, or its oldest record is
   * older than `minTs`, replace its oldest records by one gap record (seq of the
   * last dropped, `from` of the first), oldest-first, down to 90 % of `maxBytes`.
   * One transaction; an existing gap at the head is merged into the new one.
   */
  evict(lane: LinkLane, maxBytes: number, minTs: number): Promise<Eviction | undefined>;
  /** Remember a command id; false if it was already remembered (executed at most once). */
  markExecuted(id: string, at: number): Promise<boolean>;
  pruneExecuted(before: number): Promise<number>;
  marks(site: string): Promise<Partial<Record<LinkLane, LaneMark>>>;
  events(site: string | undefined, limit: number): Promise<LinkEventRow[]>;
  /** Queue a command for an offline site; false when the site already has `max` queued. */
  queueCommand(c: QueuedCommand, max: number): Promise<boolean>;
  /** The site's queued commands whose deadline is after `now`, oldest first; expired ones are deleted. */
  queuedCommands(site: string, now: number): Promise<QueuedCommand[]>;
  dropCommand(id: string): Promise<void>;
  putSiteToken(t: SiteToken): Promise<void>;
  siteToken(id: string): Promise<SiteToken | undefined>;
  siteTokens(): Promise<SiteToken[]>;
  /** Revoke every active token of `site`; returns how many. */
  revokeSite(site: string, at: number): Promise<number>;
  close(): Promise<void>;
}

type Row = Record<string, unknown>;
const num = (v: unknown) => Number(v);
const token = (r: Row): SiteToken => ({ id: String(r.id), site: String(r.site), hash: String(r.hash), createdAt: num(r.created_at), revokedAt: r.revoked_at === null ? null : num(r.revoked_at) });
const event = (r: Row): LinkEventRow => ({
  site: String(r.site), lane: r.lane as LinkLane, kind: r.kind as LinkEventRow['kind'], epoch: String(r.epoch), fromSeq: num(r.from_seq), toSeq: num(r.to_seq),
  reason: String(r.reason), count: num(r.count), detail: String(r.detail), at: num(r.at),
});

interface Tx {
  rows(sql: string, args: unknown[]): Promise<Row[]>;
  run(sql: string, args: unknown[]): Promise<number>;
}
interface Exec extends Tx {
  /** Run `fn` in one write transaction (SQLite: BEGIN IMMEDIATE, so it never fails to upgrade a read lock). */
  tx<T>(fn: (t: Tx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Adjust the lane's totals by rows removed (negative) or added. */
const totals = (t: Tx, lane: LinkLane, rows: number, bytes: number) => t.run('UPDATE link_lanes SET rows = rows + $1, bytes = bytes + $2 WHERE lane = $3', [rows, bytes, lane]);

async function evict(t: Tx, lane: LinkLane, maxBytes: number, minTs: number): Promise<Eviction | undefined> {
  const [f] = await t.rows('SELECT bytes AS b FROM link_lanes WHERE lane = $1', [lane]);
  if (!f) return undefined;
  let bytes = num(f.b);
  const start = bytes;
  let removed = 0;
  const [head] = await t.rows('SELECT ts FROM link_outbox WHERE lane = $1 ORDER BY seq LIMIT 1', [lane]);
  if (!head || (bytes <= maxBytes && num(head.ts) >= minTs)) return undefined;
  const reason: Eviction['reason'] = bytes > maxBytes ? 'queue_full' : 'ttl';
  const target = Math.floor(maxBytes * 0.9);
  let from = -1, to = -1, count = 0, firstTs = 0, lastTs = 0;
  for (let after = 0; ;) {
    const rows = await t.rows('SELECT seq, from_seq, ts, bytes, body FROM link_outbox WHERE lane = $1 AND seq > $2 ORDER BY seq LIMIT 500', [lane, after]);
    let stop = rows.length === 0;
    for (const r of rows) {
      if (reason === 'queue_full' ? bytes <= target : num(r.ts) >= minTs) { stop = true; break; }
      if (from < 0) { from = num(r.from_seq); firstTs = num(r.ts); }
      const body = String(r.body);
      count += body.startsWith('{"k":"gap"') ? (JSON.parse(body) as GapBody).count : 1;
      to = num(r.seq);
      lastTs = num(r.ts);
      bytes -= num(r.bytes);
      removed++;
      after = to;
    }
    if (stop) break;
  }
  if (to < 0) return undefined;
  await t.run('DELETE FROM link_outbox WHERE lane = $1 AND seq <= $2', [lane, to]);
  const gap: GapBody = { k: 'gap', reason, count, firstTs, lastTs };
  const body = JSON.stringify(gap);
  await t.run('INSERT INTO link_outbox (lane, seq, from_seq, ts, bytes, body, via) VALUES ($1, $2, $3, $4, $5, $6, NULL)', [lane, to, from, lastTs, Buffer.byteLength(body), body]);
  await totals(t, lane, 1 - removed, bytes + Buffer.byteLength(body) - start);
  return { reason, from, to, count };
}

function linkStore(x: Exec): LinkStore {
  return {
    lanes: async () => (await x.rows('SELECT * FROM link_lanes ORDER BY lane', [])).map((r) => ({ lane: r.lane as LinkLane, epoch: String(r.epoch), nextSeq: num(r.next_seq), acked: num(r.acked) })),
    outbox: async (lane, afterSeq, limit, maxBytes) => {
      const rows = await x.rows('SELECT * FROM link_outbox WHERE lane = $1 AND seq > $2 ORDER BY seq LIMIT $3', [lane, afterSeq, limit]);
      const out: OutboxRow[] = [];
      let bytes = 0;
      for (const r of rows) {
        if (out.length > 0 && bytes + num(r.bytes) > maxBytes) break;
        bytes += num(r.bytes);
        out.push({ lane, seq: num(r.seq), from: num(r.from_seq), ts: num(r.ts), bytes: num(r.bytes), body: String(r.body), via: r.via === null ? null : (JSON.parse(String(r.via)) as string[]) });
      }
      return out;
    },
    ack: (lane, epoch, seq) => x.tx(async (t) => {
      if ((await t.run('UPDATE link_lanes SET acked = $1 WHERE lane = $2 AND epoch = $3 AND acked < $4', [seq, lane, epoch, seq])) === 0) return 0;
      const [gone] = await t.rows('SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b FROM link_outbox WHERE lane = $1 AND seq <= $2', [lane, seq]);
      await totals(t, lane, -num(gone!.n), -num(gone!.b));
      return t.run('DELETE FROM link_outbox WHERE lane = $1 AND seq <= $2', [lane, seq]);
    }),
    fill: async (lane) => {
      const [r] = await x.rows('SELECT rows, bytes FROM link_lanes WHERE lane = $1', [lane]);
      const [head] = await x.rows('SELECT ts FROM link_outbox WHERE lane = $1 ORDER BY seq LIMIT 1', [lane]);
      return { records: r ? num(r.rows) : 0, bytes: r ? num(r.bytes) : 0, oldestTs: head ? num(head.ts) : null };
    },
    evict: (lane, maxBytes, minTs) => x.tx((t) => evict(t, lane, maxBytes, minTs)),
    markExecuted: async (id, at) => (await x.run('INSERT INTO link_executed (id, at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [id, at])) === 1,
    pruneExecuted: (before) => x.run('DELETE FROM link_executed WHERE at < $1', [before]),
    marks: async (site) => Object.fromEntries((await x.rows('SELECT lane, epoch, seq FROM link_marks WHERE site = $1', [site])).map((r) => [r.lane, { epoch: String(r.epoch), seq: num(r.seq) }])),
    events: async (site, limit) => (site === undefined
      ? await x.rows('SELECT * FROM link_events ORDER BY id DESC LIMIT $1', [limit])
      : await x.rows('SELECT * FROM link_events WHERE site = $1 ORDER BY id DESC LIMIT $2', [site, limit])).map(event),
    queueCommand: (c, max) => x.tx(async (t) => {
      const [r] = await t.rows('SELECT count(*) AS n FROM link_commands WHERE site = $1', [c.site]);
      if (num(r!.n) >= max) return false;
      await t.run('INSERT INTO link_commands (id, site, device, method, params, deadline, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [c.id, c.site, c.device, c.method, JSON.stringify(c.params), c.deadline, c.createdAt]);
      return true;
    }),
    queuedCommands: async (site, now) => {
      await x.run('DELETE FROM link_commands WHERE site = $1 AND deadline <= $2', [site, now]);
      return (await x.rows('SELECT * FROM link_commands WHERE site = $1 ORDER BY created_at, id', [site])).map((r) => ({
        id: String(r.id), site: String(r.site), device: String(r.device), method: String(r.method), params: JSON.parse(String(r.params)) as Record<string, unknown>,
        deadline: num(r.deadline), createdAt: num(r.created_at),
      }));
    },
    dropCommand: async (id) => void (await x.run('DELETE FROM link_commands WHERE id = $1', [id])),
    putSiteToken: async (t) => void (await x.run('INSERT INTO link_site_tokens (id, site, hash, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5)', [t.id, t.site, t.hash, t.createdAt, t.revokedAt])),
    siteToken: async (id) => ((r) => (r ? token(r) : undefined))((await x.rows('SELECT * FROM link_site_tokens WHERE id = $1', [id]))[0]),
    siteTokens: async () => (await x.rows('SELECT * FROM link_site_tokens ORDER BY site, created_at', [])).map(token),
    revokeSite: (site, at) => x.run('UPDATE link_site_tokens SET revoked_at = $1 WHERE site = $2 AND revoked_at IS NULL', [at, site]),
    close: x.close,
  };
}

/** `durability` as the store's (--durability): this connection's PRAGMA synchronous (central applies batches here). */
export function sqliteLinkStore(path: string, durability: Durability = 'process'): LinkStore {
  const db = sideSqlite(path, durability);
  const cache = new Map<string, Database.Statement>();
  const q = (sql: string) => cache.get(sql) ?? cache.set(sql, db.prepare(sql.replace(/\$\d+/g, '?'))).get(sql)!;
  const t: Tx = {
    rows: async (sql, args) => q(sql).all(...args) as Row[],
    run: async (sql, args) => q(sql).run(...args).changes,
  };
  let chain: Promise<unknown> = Promise.resolve();
  return linkStore({
    ...t,
    // Statements of one transaction run back to back: the chain keeps other calls out between them.
    tx: <T>(fn: (t: Tx) => Promise<T>) => {
      const run = chain.then(async () => {
        db.exec('BEGIN IMMEDIATE');
        try {
          const r = await fn(t);
          db.exec('COMMIT');
          return r;
        } catch (err) {
          db.exec('ROLLBACK');
          throw err;
        }
      });
      chain = run.catch(() => undefined);
      return run;
    },
    close: async () => {
      await chain;
      db.close();
    },
  });
}

export function postgresLinkStore(url: string, schema?: string): LinkStore {
  const pool = sidePool(url, schema);
  return linkStore({
    rows: async (sql, args) => (await pool.query(sql, args)).rows as Row[],
    run: async (sql, args) => (await pool.query(sql, args)).rowCount ?? 0,
    tx: (fn) => pgTransaction(pool, (c) => fn({ rows: async (sql, a) => (await c.query(sql, a)).rows as Row[], run: async (sql, a) => (await c.query(sql, a)).rowCount ?? 0 })),
    close: () => pool.end(),
  });
}
