/**
 * Acknowledge after commit (design.md: "an acknowledgement means stored").
 *
 * A PUBACK/PUBREC for an accepted QoS 1/2 PUBLISH waits for (a) the promise
 * `Hooks.durable` returns for it (the hub: its points are committed) and (b)
 * `store.flush()` when the PUBLISH changed engine state (retained, queued or
 * in flight for a persistent session, a QoS 2 packet id). Neither: the ack is
 * written at once, as before, with no allocation, unless earlier acks of the
 * connection are still waiting: acks leave in PUBLISH order [MQTT-4.6.0-2].
 *
 * A refused commit: v5 gets PUBACK/PUBREC with the refusal's `reasonCode`
 * (0x97 quota exceeded, else 0x80 unspecified) [MQTT-3.4.2-1]; 3.1.1 gets no
 * ack at all, so the client resends it (never acknowledged and dropped);
 * counted in `ack_refused`. A connection that closes with acks waiting drops
 * them: the client resends after reconnecting [MQTT-4.4.0-1].
 *
 * Bound: at most `limit` acks wait per connection (receiveMaximum / maxInflightIn);
 * at the bound the connection stops reading (backpressure, `ack_backpressure`)
 * until the head commits, so a publisher cannot grow it without end.
 */
import type { Connection } from './connection.js';
import { State } from './connection.js';
import type { EngineStore } from './store.js';
import { RC } from './reasons.js';

interface Pending {
  qos: 1 | 2;
  pid: number;
  rc: number;
  why: string | undefined;
  /** false while its commit is awaited */
  ready: boolean;
  /** a refused commit: v5 acks with `rc`, 3.1.1 does not ack */
  refused: boolean;
}

/** The reason a refusal carries: its numeric `reasonCode` if it is a v5 failure code, else 0x80. */
export function refusalCode(err: unknown): number {
  const rc = (err as { reasonCode?: unknown } | null)?.reasonCode;
  return typeof rc === 'number' && rc >= 0x80 && rc <= 0xff ? rc : RC.UNSPECIFIED;
}

export class AckQueue {
  private readonly q: Pending[] = [];
  private paused = false;

  constructor(private readonly c: Connection, private readonly limit: number) {}

  get size(): number { return this.q.length; }

  /**
   * Queues one ack behind the ones waiting; `wait` null: ready now (it still
   * waits its turn). `onRefused` undoes what the accepted PUBLISH recorded (a QoS 2 packet id).
   */
  push(qos: 1 | 2, pid: number, rc: number, why: string | undefined, wait: Promise<unknown> | null, onRefused?: () => void): void {
    const p: Pending = { qos, pid, rc, why, ready: wait === null, refused: false };
    this.q.push(p);
    if (wait !== null) {
      wait.then(() => { p.ready = true; this.drain(); }, (err: unknown) => {
        p.ready = true;
        p.refused = true;
        p.rc = refusalCode(err);
        p.why = err instanceof Error ? err.message : 'not stored';
        this.c.engine.count('ack_refused');
        onRefused?.();
        this.drain();
      });
    }
    if (this.q.length >= this.limit && !this.paused && this.c.state !== State.Closed) {
      this.paused = true;
      this.c.engine.count('ack_backpressure');
      this.c.stream.pause();
    }
  }

  private drain(): void {
    const c = this.c;
    if (c.state === State.Closed) { this.q.length = 0; return; }
    let n = 0;
    while (n < this.q.length && this.q[n]!.ready) {
      const p = this.q[n++]!;
      if (p.refused && c.version !== 5) continue; // 3.1.1: no ack, the client resends
      sendAck(c, p.qos, p.pid, p.rc, p.why);
    }
    if (n > 0) this.q.splice(0, n);
    if (this.paused && this.q.length < this.limit) { this.paused = false; c.stream.resume(); }
  }
}

/**
 * QoS 2 PUBLISHes whose PUBREC waits for a commit, per session: a resend of one
 * (DUP, possibly on a new connection of a persistent session) must not get its
 * PUBREC before the original's commit settles [MQTT-4.3.3-9].
 */
const pendingRec = new WeakMap<object, Map<number, Promise<unknown>>>();

export function pendingPubrec(session: object, pid: number): Promise<unknown> | undefined {
  return pendingRec.get(session)?.get(pid);
}

export function holdPubrec(session: object, pid: number, wait: Promise<unknown>): void {
  let m = pendingRec.get(session);
  if (m === undefined) pendingRec.set(session, (m = new Map()));
  m.set(pid, wait);
  const done = (): void => { if (m.get(pid) === wait) m.delete(pid); };
  wait.then(done, done);
}

/** Writes one PUBACK/PUBREC; v5 carries `rc` (and a Reason String for failures when allowed). */
export function sendAck(c: Connection, qos: number, pid: number, rc: number, why: string | undefined): void {
  const cmd = qos === 1 ? 'puback' : 'pubrec';
  if (c.version !== 5 || rc === 0) { c.send({ cmd, messageId: pid }); return; }
  c.send({ cmd, messageId: pid, reasonCode: rc, properties: rc >= 0x80 ? c.reasonProps(why) : undefined });
}

/**
 * Counts records made to a store that buffers them, so the PUBLISH handler can
 * tell whether a PUBLISH changed engine state (then its ack waits for `flush()`).
 * The in-memory store applies records at once and is not wrapped.
 */
export class RecordCounter implements EngineStore {
  writes = 0;
  constructor(readonly inner: EngineStore) {}
  load(): ReturnType<EngineStore['load']> { return this.inner.load(); }
  putSession(...a: Parameters<EngineStore['putSession']>): void { this.writes++; this.inner.putSession(...a); }
  setSessionExpiry(...a: Parameters<EngineStore['setSessionExpiry']>): void { this.writes++; this.inner.setSessionExpiry(...a); }
  deleteSession(...a: Parameters<EngineStore['deleteSession']>): void { this.writes++; this.inner.deleteSession(...a); }
  putSubscription(...a: Parameters<EngineStore['putSubscription']>): void { this.writes++; this.inner.putSubscription(...a); }
  deleteSubscription(...a: Parameters<EngineStore['deleteSubscription']>): void { this.writes++; this.inner.deleteSubscription(...a); }
  putOutbound(...a: Parameters<EngineStore['putOutbound']>): void { this.writes++; this.inner.putOutbound(...a); }
  deleteOutbound(...a: Parameters<EngineStore['deleteOutbound']>): void { this.writes++; this.inner.deleteOutbound(...a); }
  putInflightIn(...a: Parameters<EngineStore['putInflightIn']>): void { this.writes++; this.inner.putInflightIn(...a); }
  deleteInflightIn(...a: Parameters<EngineStore['deleteInflightIn']>): void { this.writes++; this.inner.deleteInflightIn(...a); }
  putWill(...a: Parameters<EngineStore['putWill']>): void { this.writes++; this.inner.putWill(...a); }
  deleteWill(...a: Parameters<EngineStore['deleteWill']>): void { this.writes++; this.inner.deleteWill(...a); }
  putRetained(...a: Parameters<EngineStore['putRetained']>): void { this.writes++; this.inner.putRetained(...a); }
  deleteRetained(...a: Parameters<EngineStore['deleteRetained']>): void { this.writes++; this.inner.deleteRetained(...a); }
  flush(): Promise<void> { return this.inner.flush(); }
  close(): Promise<void> { return this.inner.close(); }
}
