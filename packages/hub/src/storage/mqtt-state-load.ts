/**
 * Rows of the MQTT state tables (same columns on SQLite and PostgreSQL) back
 * into the engine's StoreSnapshot: outbound in `seq` order per session, rows of
 * sessions the table no longer holds left out.
 */
import type { StoreSnapshot, StoredOutbound, StoredSession, StoredSubscription } from '@fieldlink/mqtt';
import type { StateRows } from './mqtt-state-sqlite.js';
import { storedMessage } from './mqtt-state.js';

const buf = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));
const num = (x: number | string | null): number | null => (x === null ? null : Number(x));

export function snapshotOf(r: StateRows): StoreSnapshot {
  const sessions = new Map<string, StoredSession>();
  for (const s of r.sessions) {
    sessions.set(s.client_id, {
      clientId: s.client_id,
      protocolVersion: s.protocol as StoredSession['protocolVersion'],
      expirySec: Number(s.expiry_sec),
      ...(s.owner !== null ? { owner: JSON.parse(s.owner) as unknown } : {}),
      expiresAt: num(s.expires_at),
      subscriptions: [],
      outbound: [],
      inflightIn: [],
      will: null,
      willAt: null,
    });
  }
  for (const x of r.subs) {
    const sub: StoredSubscription = { key: x.key, qos: x.qos as StoredSubscription['qos'], nl: Boolean(x.nl), rap: Boolean(x.rap), rh: x.rh, id: Number(x.sub_id) };
    sessions.get(x.client_id)?.subscriptions.push(sub);
  }
  for (const o of r.outbound) {
    const s = sessions.get(o.client_id);
    if (!s) continue;
    const msg = storedMessage({ topic: o.topic, payload: buf(o.payload), qos: o.msg_qos, retain: o.msg_retain, props: o.props, ts: Number(o.ts) });
    s.outbound.push({ seq: Number(o.seq), msg, qos: o.qos as StoredOutbound['qos'], retain: Boolean(o.retain), ids: o.ids === null ? null : (JSON.parse(o.ids) as number[]), pid: o.pid, state: o.state as StoredOutbound['state'] });
  }
  for (const s of sessions.values()) s.outbound.sort((a, b) => a.seq - b.seq);
  for (const x of r.inflightIn) sessions.get(x.client_id)?.inflightIn.push(x.pid);
  for (const w of r.wills) {
    const s = sessions.get(w.client_id);
    if (!s) continue;
    s.will = { ...storedMessage({ topic: w.topic, payload: buf(w.payload), qos: w.qos, retain: w.retain, props: w.props, ts: Number(w.ts) }), delaySec: Number(w.delay_sec) };
    s.willAt = num(w.will_at);
  }
  const retained = r.retained.map((m) => storedMessage({ topic: m.topic, payload: buf(m.payload), qos: m.qos, retain: true, props: m.props, ts: Number(m.ts) }));
  return { sessions: [...sessions.values()], retained };
}
