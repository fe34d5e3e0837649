/**
 * The MQTT engine's state in SQLite (tables of migration 6). Runs inside the
 * writer worker (sqlite-worker.ts ops `mqttApply` / `mqttLoad`), on the writer's
 * own connection: one writer for the whole file, so engine state and telemetry
 * never contend for the write lock, and `synchronous` (--durability) is the same.
 *
 * `apply` commits one batch (a tick of records, mqtt-state.ts) in one
 * transaction. Rows for a session the table does not hold are ignored
 * (INSERT … SELECT … WHERE EXISTS), as the EngineStore contract asks: a record
 * for a session deleted earlier in the same batch, for instance.
 */
import type Database from 'better-sqlite3';
import type { StateOp } from './mqtt-state.js';

/** Rows as the worker returns them (the main thread rebuilds StoredSession, mqtt-state-load.ts). */
export interface StateRows {
  sessions: { client_id: string; protocol: number; expiry_sec: number; owner: string | null; expires_at: number | null }[];
  subs: { client_id: string; key: string; qos: number; nl: number; rap: number; rh: number; sub_id: number }[];
  outbound: { client_id: string; seq: number; topic: string; payload: Uint8Array; msg_qos: number; msg_retain: number; props: string | null; ts: number; qos: number; retain: number; ids: string | null; pid: number; state: string }[];
  inflightIn: { client_id: string; pid: number }[];
  wills: { client_id: string; topic: string; payload: Uint8Array; qos: number; retain: number; props: string | null; ts: number; delay_sec: number; will_at: number | null }[];
  retained: { topic: string; payload: Uint8Array; qos: number; props: string | null; ts: number }[];
}

const HAS = 'WHERE EXISTS (SELECT 1 FROM mqtt_sessions WHERE client_id = @c)';
const b = (x: boolean): number => (x ? 1 : 0);
/** structured clone turns a Buffer into a plain Uint8Array; the driver binds only Buffers as BLOB */
const blob = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));

export class SqliteState {
  private readonly tx: (ops: StateOp[]) => void;
  private readonly load: () => StateRows;

  constructor(db: Database.Database) {
    const p = (sql: string) => db.prepare(sql);
    const s = {
      session: p(`INSERT INTO mqtt_sessions (client_id, protocol, expiry_sec, owner, expires_at) VALUES (@c, @proto, @expirySec, @owner, NULL)
                  ON CONFLICT (client_id) DO UPDATE SET protocol = excluded.protocol, expiry_sec = excluded.expiry_sec, owner = excluded.owner`),
      expiry: p('UPDATE mqtt_sessions SET expires_at = @at WHERE client_id = @c'),
      delSessions: ['mqtt_sessions', 'mqtt_subscriptions', 'mqtt_outbound', 'mqtt_inflight_in', 'mqtt_wills'].map((t) => p(`DELETE FROM ${t} WHERE client_id = ?`)),
      sub: p(`INSERT OR REPLACE INTO mqtt_subscriptions (client_id, key, qos, nl, rap, rh, sub_id) SELECT @c, @key, @qos, @nl, @rap, @rh, @id ${HAS}`),
      delSub: p('DELETE FROM mqtt_subscriptions WHERE client_id = ? AND key = ?'),
      out: p(`INSERT OR REPLACE INTO mqtt_outbound (client_id, seq, topic, payload, msg_qos, msg_retain, props, ts, qos, retain, ids, pid, state)
              SELECT @c, @seq, @topic, @payload, @mqos, @mretain, @props, @ts, @qos, @retain, @ids, @pid, @state ${HAS}`),
      delOut: p('DELETE FROM mqtt_outbound WHERE client_id = ? AND seq = ?'),
      in: p(`INSERT OR IGNORE INTO mqtt_inflight_in (client_id, pid) SELECT @c, @pid ${HAS}`),
      delIn: p('DELETE FROM mqtt_inflight_in WHERE client_id = ? AND pid = ?'),
      will: p(`INSERT OR REPLACE INTO mqtt_wills (client_id, topic, payload, qos, retain, props, ts, delay_sec, will_at)
               SELECT @c, @topic, @payload, @qos, @retain, @props, @ts, @delaySec, @at ${HAS}`),
      delWill: p('DELETE FROM mqtt_wills WHERE client_id = ?'),
      ret: p('INSERT OR REPLACE INTO mqtt_retained (topic, payload, qos, props, ts) VALUES (?, ?, ?, ?, ?)'),
      delRet: p('DELETE FROM mqtt_retained WHERE topic = ?'),
    };
    const one = (o: StateOp): void => {
      switch (o.k) {
        case 'session': s.session.run({ c: o.c, proto: o.proto, expirySec: o.expirySec, owner: o.owner }); break;
        case 'expiry': s.expiry.run({ c: o.c, at: o.at }); break;
        case 'delSession': for (const d of s.delSessions) d.run(o.c); break;
        case 'sub': s.sub.run({ c: o.c, key: o.key, qos: o.qos, nl: b(o.nl), rap: b(o.rap), rh: o.rh, id: o.id }); break;
        case 'delSub': s.delSub.run(o.c, o.key); break;
        case 'out': s.out.run({ c: o.c, seq: o.seq, topic: o.m.topic, payload: blob(o.m.payload), mqos: o.m.qos, mretain: b(o.m.retain), props: o.m.props, ts: o.m.ts,
          qos: o.qos, retain: b(o.retain), ids: o.ids, pid: o.pid, state: o.state }); break;
        case 'delOut': s.delOut.run(o.c, o.seq); break;
        case 'in': s.in.run({ c: o.c, pid: o.pid }); break;
        case 'delIn': s.delIn.run(o.c, o.pid); break;
        case 'will': s.will.run({ c: o.c, topic: o.m.topic, payload: blob(o.m.payload), qos: o.m.qos, retain: b(o.m.retain), props: o.m.props, ts: o.m.ts, delaySec: o.delaySec, at: o.at }); break;
        case 'delWill': s.delWill.run(o.c); break;
        case 'ret': s.ret.run(o.m.topic, blob(o.m.payload), o.m.qos, o.m.props, o.m.ts); break;
        case 'delRet': s.delRet.run(o.topic); break;
      }
    };
    this.tx = db.transaction((ops: StateOp[]) => { for (const o of ops) one(o); });
    const all = (sql: string) => () => db.prepare(sql).all();
    const q = {
      sessions: all('SELECT * FROM mqtt_sessions'),
      subs: all('SELECT * FROM mqtt_subscriptions'),
      outbound: all('SELECT * FROM mqtt_outbound ORDER BY client_id, seq'),
      inflightIn: all('SELECT * FROM mqtt_inflight_in'),
      wills: all('SELECT * FROM mqtt_wills'),
      retained: all('SELECT * FROM mqtt_retained'),
    };
    // one read transaction: a consistent snapshot
    this.load = db.transaction(() => ({
      sessions: q.sessions(), subs: q.subs(), outbound: q.outbound(), inflightIn: q.inflightIn(), wills: q.wills(), retained: q.retained(),
    }) as StateRows);
  }

  apply(ops: StateOp[]): void { this.tx(ops); }
  rows(): StateRows { return this.load(); }
}
