/**
 * Session lifecycle: what happens when a connection ends (will, expiry), when a
 * session ends, and how state comes back from the store after a restart.
 *
 * Wills [MQTT-3.1.2-8]: published when the connection closes without DISCONNECT
 * 0x00 (keep-alive timeout, protocol error, takeover, socket loss, DISCONNECT 0x04);
 * a v5 Will Delay defers it to the earlier of the delay and the session's end
 * [MQTT-3.1.3-9], and a new connection to the session before then cancels it.
 */
import type { Connection } from './connection.js';
import type { Engine } from './engine.js';
import { Msg } from './message.js';
import { Session, storedWill } from './session.js';
import type { StoredMessage } from './store.js';

export function detach(e: Engine, c: Connection, wasConnected: boolean, reason: string): void {
  const s = c.session;
  c.session = null;
  if (!s || s.conn !== c) return;
  s.conn = null;
  if (wasConnected && c.ctx) e.hooks.disconnected?.(c.ctx, reason);
  if (s.will) {
    if (!c.sendWill) dropWill(e, s);
    else if (s.will.delaySec > 0 && s.persistent && s.will.delaySec < s.expirySec) {
      const at = e.now() + s.will.delaySec * 1000;
      if (s.stored) e.store.putWill(s.clientId, storedWill(s.will), at);
      s.willTimer = setTimeout(publishWill, s.will.delaySec * 1000, e, s);
      s.willTimer.unref();
    } else if (!s.persistent || s.will.delaySec === 0) publishWill(e, s);
    // else: the delay outlasts the session: endSession publishes it
  }
  if (!s.persistent) { endSession(e, s); return; }
  scheduleExpiry(e, s, e.now() + s.expirySec * 1000);
}

function scheduleExpiry(e: Engine, s: Session, at: number): void {
  if (s.stored) e.store.setSessionExpiry(s.clientId, at);
  const ms = Math.max(0, at - e.now());
  s.expiryTimer = setTimeout(expire, Math.min(ms, 2_147_483_647), e, s, at);
  s.expiryTimer.unref();
}

function expire(e: Engine, s: Session, at: number): void {
  s.expiryTimer = null;
  if (s.conn !== null) return;
  if (e.now() < at) { scheduleExpiry(e, s, at); return; } // timers cap at ~24.8 days
  e.count('sessions_expired');
  endSession(e, s);
}

/** A new connection resumed the session: cancel its pending will and expiry [MQTT-3.1.3-9]. */
export function resumed(e: Engine, s: Session): void {
  if (s.willTimer) { clearTimeout(s.willTimer); s.willTimer = null; }
  if (s.expiryTimer) { clearTimeout(s.expiryTimer); s.expiryTimer = null; }
  if (s.will) dropWill(e, s);
  if (s.stored) e.store.setSessionExpiry(s.clientId, null);
}

export function endSession(e: Engine, s: Session): void {
  if (s.expiryTimer) { clearTimeout(s.expiryTimer); s.expiryTimer = null; }
  if (s.will && s.conn === null) publishWill(e, s); // the session ends before the will delay: publish now
  for (const sub of s.subs.values()) e.router.remove(sub);
  s.subs.clear();
  s.clearMessages();
  if (e.sessions.get(s.clientId) === s) e.sessions.delete(s.clientId);
  if (s.stored) { e.store.deleteSession(s.clientId); s.stored = false; }
}

function dropWill(e: Engine, s: Session): void {
  s.will = null;
  if (s.stored) e.store.deleteWill(s.clientId);
}

export function publishWill(e: Engine, s: Session): void {
  if (s.willTimer) { clearTimeout(s.willTimer); s.willTimer = null; }
  const w = s.will;
  if (!w) return;
  dropWill(e, s);
  const m = new Msg(w.msg.topic, w.msg.payload, w.msg.qos, w.msg.retain, w.msg.properties, e.now());
  e.count('wills_published');
  if (m.retain && !e.retain(m)) return;
  e.route(m, null);
}

const msgOf = (m: StoredMessage): Msg => new Msg(m.topic, m.payload, m.qos, m.retain, m.properties, m.ts);

/** Rebuilds offline sessions, retained messages and wills from the store. */
export async function restore(e: Engine): Promise<void> {
  const snap = await e.store.load();
  for (const r of snap.retained) e.retainedMsgs.set(msgOf(r));
  const now = e.now();
  const due: Session[] = [];
  for (const st of snap.sessions) {
    const s = new Session(st.clientId, e.store);
    s.protocolVersion = st.protocolVersion;
    s.owner = st.owner;
    s.stored = true;
    e.sessions.set(s.clientId, s);
    for (const sub of st.subscriptions) e.subscribe(s, sub.key, sub); // expirySec still 0: not re-recorded
    // The hooks' screening verdict (Hooks.screensSubscription) is not stored: re-authorise every delivery.
    if (e.hooks.screensSubscription && st.subscriptions.length > 0) s.screened = true;
    s.expirySec = s.connectExpirySec = st.expirySec;
    for (const o of st.outbound) {
      const out = { seq: o.seq, msg: msgOf(o.msg), qos: o.qos, retain: o.retain, ids: o.ids, pid: o.pid, state: o.state };
      if (o.state === 'queued') { s.queue.push(out); if (o.qos === 0) s.queuedQos0++; } else s.inflightOut.set(o.pid, out);
      s.setSeq(o.seq);
    }
    for (const pid of st.inflightIn) s.inflightIn.add(pid);
    // a will without deadline: the process stopped while its client was connected (an abnormal end)
    if (st.will) {
      s.will = { msg: msgOf(st.will), delaySec: st.will.delaySec };
      const at = st.willAt ?? now + st.will.delaySec * 1000;
      if (at <= now) due.push(s);
      else { s.willTimer = setTimeout(publishWill, at - now, e, s); s.willTimer.unref(); }
    }
    scheduleExpiry(e, s, st.expiresAt ?? now + s.expirySec * 1000);
  }
  // Wills that fell due while the process was down: published once every session is back, so
  // each restored subscriber gets them whatever the order of the snapshot.
  for (const s of due) publishWill(e, s);
}
