/**
 * The MQTT engine's state in PostgreSQL (tables of migration 7), on the store's
 * pool. `apply` commits one batch (a tick of records, mqtt-state.ts) in one
 * transaction; the pool connects with synchronous_commit=on (postgres.ts), so
 * a resolved `flush()` means the commit is on the server's disk (and on its
 * synchronous standbys, if it has any), in both --durability modes.
 *
 * Round trips: consecutive records of the hot kinds (outbound put/delete,
 * retained put/delete) become one `unnest` statement each; the rest (session
 * changes, rare) one statement per record. Order is kept: runs are consecutive.
 * Rows for a session the table does not hold are ignored (… WHERE EXISTS), as
 * the EngineStore contract asks.
 */
import type pg from 'pg';
import type { StoreSnapshot } from '@fieldlink/mqtt';
import type { StateBackend, StateOp } from './mqtt-state.js';
import type { StateRows } from './mqtt-state-sqlite.js';
import { snapshotOf } from './mqtt-state-load.js';

type Of<K extends StateOp['k']> = Extract<StateOp, { k: K }>;
const HAS = (c: string) => `EXISTS (SELECT 1 FROM mqtt_sessions s WHERE s.client_id = ${c})`;
const buf = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));

const OUT_SQL = `
  INSERT INTO mqtt_outbound (client_id, seq, topic, payload, msg_qos, msg_retain, props, ts, qos, retain, ids, pid, state)
  SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bytea[], $5::smallint[], $6::boolean[], $7::text[], $8::bigint[],
                       $9::smallint[], $10::boolean[], $11::text[], $12::int[], $13::text[]) AS u(c, seq, topic, payload, mq, mr, props, ts, qos, retain, ids, pid, state)
  WHERE ${HAS('u.c')}
  ON CONFLICT (client_id, seq) DO UPDATE SET topic = EXCLUDED.topic, payload = EXCLUDED.payload, msg_qos = EXCLUDED.msg_qos,
    msg_retain = EXCLUDED.msg_retain, props = EXCLUDED.props, ts = EXCLUDED.ts, qos = EXCLUDED.qos, retain = EXCLUDED.retain,
    ids = EXCLUDED.ids, pid = EXCLUDED.pid, state = EXCLUDED.state`;
const DEL_OUT_SQL = 'DELETE FROM mqtt_outbound o USING unnest($1::text[], $2::bigint[]) AS u(c, seq) WHERE o.client_id = u.c AND o.seq = u.seq';
const RET_SQL = `
  INSERT INTO mqtt_retained (topic, payload, qos, props, ts) SELECT * FROM unnest($1::text[], $2::bytea[], $3::smallint[], $4::text[], $5::bigint[])
  ON CONFLICT (topic) DO UPDATE SET payload = EXCLUDED.payload, qos = EXCLUDED.qos, props = EXCLUDED.props, ts = EXCLUDED.ts`;
const DEL_RET_SQL = 'DELETE FROM mqtt_retained WHERE topic = ANY($1::text[])';

/** The last record per key of a run (one INSERT … ON CONFLICT may not touch a row twice). */
function lastPer<T>(run: T[], key: (x: T) => string): T[] {
  const m = new Map<string, T>();
  for (const x of run) { const k = key(x); m.delete(k); m.set(k, x); }
  return [...m.values()];
}

async function runOf(c: pg.ClientBase, k: StateOp['k'], run: StateOp[]): Promise<void> {
  switch (k) {
    case 'out': {
      const r = lastPer(run as Of<'out'>[], (o) => `${o.c}\u0000${o.seq}`);
      await c.query(OUT_SQL, [r.map((o) => o.c), r.map((o) => o.seq), r.map((o) => o.m.topic), r.map((o) => buf(o.m.payload)), r.map((o) => o.m.qos),
        r.map((o) => o.m.retain), r.map((o) => o.m.props), r.map((o) => o.m.ts), r.map((o) => o.qos), r.map((o) => o.retain), r.map((o) => o.ids),
        r.map((o) => o.pid), r.map((o) => o.state)]);
      return;
    }
    case 'delOut': {
      const r = run as Of<'delOut'>[];
      await c.query(DEL_OUT_SQL, [r.map((o) => o.c), r.map((o) => o.seq)]);
      return;
    }
    case 'ret': {
      const r = lastPer(run as Of<'ret'>[], (o) => o.m.topic);
      await c.query(RET_SQL, [r.map((o) => o.m.topic), r.map((o) => buf(o.m.payload)), r.map((o) => o.m.qos), r.map((o) => o.m.props), r.map((o) => o.m.ts)]);
      return;
    }
    case 'delRet':
      await c.query(DEL_RET_SQL, [(run as Of<'delRet'>[]).map((o) => o.topic)]);
      return;
    default:
      for (const o of run) await one(c, o);
  }
}

async function one(c: pg.ClientBase, o: StateOp): Promise<void> {
  switch (o.k) {
    case 'session':
      await c.query(`INSERT INTO mqtt_sessions (client_id, protocol, expiry_sec, owner) VALUES ($1, $2, $3, $4)
        ON CONFLICT (client_id) DO UPDATE SET protocol = EXCLUDED.protocol, expiry_sec = EXCLUDED.expiry_sec, owner = EXCLUDED.owner`, [o.c, o.proto, o.expirySec, o.owner]);
      return;
    case 'expiry': await c.query('UPDATE mqtt_sessions SET expires_at = $2 WHERE client_id = $1', [o.c, o.at]); return;
    case 'delSession':
      await c.query(`WITH a AS (DELETE FROM mqtt_subscriptions WHERE client_id = $1), b AS (DELETE FROM mqtt_outbound WHERE client_id = $1),
        d AS (DELETE FROM mqtt_inflight_in WHERE client_id = $1), e AS (DELETE FROM mqtt_wills WHERE client_id = $1)
        DELETE FROM mqtt_sessions WHERE client_id = $1`, [o.c]);
      return;
    case 'sub':
      await c.query(`INSERT INTO mqtt_subscriptions (client_id, key, qos, nl, rap, rh, sub_id) SELECT $1, $2, $3, $4, $5, $6, $7 WHERE ${HAS('$1')}
        ON CONFLICT (client_id, key) DO UPDATE SET qos = EXCLUDED.qos, nl = EXCLUDED.nl, rap = EXCLUDED.rap, rh = EXCLUDED.rh, sub_id = EXCLUDED.sub_id`,
      [o.c, o.key, o.qos, o.nl, o.rap, o.rh, o.id]);
      return;
    case 'delSub': await c.query('DELETE FROM mqtt_subscriptions WHERE client_id = $1 AND key = $2', [o.c, o.key]); return;
    case 'in': await c.query(`INSERT INTO mqtt_inflight_in (client_id, pid) SELECT $1, $2 WHERE ${HAS('$1')} ON CONFLICT DO NOTHING`, [o.c, o.pid]); return;
    case 'delIn': await c.query('DELETE FROM mqtt_inflight_in WHERE client_id = $1 AND pid = $2', [o.c, o.pid]); return;
    case 'will':
      await c.query(`INSERT INTO mqtt_wills (client_id, topic, payload, qos, retain, props, ts, delay_sec, will_at) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 WHERE ${HAS('$1')}
        ON CONFLICT (client_id) DO UPDATE SET topic = EXCLUDED.topic, payload = EXCLUDED.payload, qos = EXCLUDED.qos, retain = EXCLUDED.retain,
          props = EXCLUDED.props, ts = EXCLUDED.ts, delay_sec = EXCLUDED.delay_sec, will_at = EXCLUDED.will_at`,
      [o.c, o.m.topic, buf(o.m.payload), o.m.qos, o.m.retain, o.m.props, o.m.ts, o.delaySec, o.at]);
      return;
    case 'delWill': await c.query('DELETE FROM mqtt_wills WHERE client_id = $1', [o.c]); return;
    default: await runOf(c, o.k, [o]);
  }
}

const LOAD = {
  sessions: 'SELECT client_id, protocol, expiry_sec::float8 AS expiry_sec, owner, expires_at::float8 AS expires_at FROM mqtt_sessions',
  subs: 'SELECT client_id, key, qos, nl, rap, rh, sub_id FROM mqtt_subscriptions',
  outbound: `SELECT client_id, seq::float8 AS seq, topic, payload, msg_qos, msg_retain, props, ts::float8 AS ts, qos, retain, ids, pid, state
             FROM mqtt_outbound ORDER BY client_id, seq`,
  inflightIn: 'SELECT client_id, pid FROM mqtt_inflight_in',
  wills: 'SELECT client_id, topic, payload, qos, retain, props, ts::float8 AS ts, delay_sec::float8 AS delay_sec, will_at::float8 AS will_at FROM mqtt_wills',
  retained: 'SELECT topic, payload, qos, props, ts::float8 AS ts FROM mqtt_retained',
} as const;

export function postgresState(pool: pg.Pool): StateBackend {
  const inTx = async <T>(fn: (c: pg.PoolClient) => Promise<T>, mode = ''): Promise<T> => {
    const c = await pool.connect();
    // A checked-out client reports a lost connection as an 'error' event too (the pool listens only
    // while it is idle): without a listener that would crash the hub; the failing query rejects anyway.
    const lost = (): void => undefined;
    c.on('error', lost);
    try {
      await c.query(`BEGIN${mode}`);
      const r = await fn(c);
      await c.query('COMMIT');
      c.off('error', lost);
      c.release();
      return r;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      c.off('error', lost);
      c.release(err as Error);
      throw err;
    }
  };
  return {
    apply: (ops) => inTx(async (c) => {
      for (let i = 0; i < ops.length;) {
        const k = ops[i]!.k;
        let j = i + 1;
        while (j < ops.length && ops[j]!.k === k) j++;
        await runOf(c, k, ops.slice(i, j));
        i = j;
      }
    }),
    load: (): Promise<StoreSnapshot> => inTx(async (c) => {
      const rows = {} as Record<keyof typeof LOAD, unknown[]>;
      for (const [k, sql] of Object.entries(LOAD) as [keyof typeof LOAD, string][]) rows[k] = (await c.query(sql)).rows;
      return snapshotOf(rows as unknown as StateRows);
    }, ' ISOLATION LEVEL REPEATABLE READ READ ONLY'),
  };
}
