/**
 * A session (MQTT 5.0 §4.1): subscriptions, QoS 1/2 messages in flight both ways,
 * the queue of messages not yet sent, the will. It outlives its connection when it
 * persists (v5 Session Expiry > 0, 3.1.1 CleanSession 0) and records its changes in
 * the store only then: clean sessions never touch the store.
 *
 * Queue policy (limit maxQueuedPerSession, counters dropped_qos0 / queue_full):
 * messages queue while the client is offline (QoS 1/2 only), while its Receive
 * Maximum window is full, or while its stream is backpressured. Once a queue is
 * non-empty, QoS 0 queues too, so order per topic is kept across QoS levels
 * [MQTT-4.6.0-5/6]. When full: an incoming QoS 0 is dropped; an incoming QoS 1/2
 * evicts the oldest queued QoS 0, or is dropped if there is none.
 */
import type { ClientSub } from './router.js';
import type { Connection } from './connection.js';
import type { Msg } from './message.js';
import type { EngineStore, StoredMessage, StoredOutbound, StoredWill } from './store.js';
import type { ProtocolVersion, QoS } from './types.js';

export interface Outbound {
  seq: number;
  msg: Msg;
  qos: QoS;
  retain: boolean;
  ids: number[] | null;
  pid: number;
  state: 'queued' | 'publish' | 'pubrel';
}

export interface Will { msg: Msg; delaySec: number }

export class Session {
  conn: Connection | null = null;
  owner: unknown = undefined;
  protocolVersion: ProtocolVersion = 4;
  /** seconds the session outlives its connection; 0 = ends with it */
  expirySec = 0;
  /** expirySec as the CONNECT set it (DISCONNECT may not raise it from 0 [MQTT-3.14.2-2]) */
  connectExpirySec = 0;
  /** the store holds this session (it persisted at some point) */
  stored = false;
  /** a subscription the hooks asked to screen (Hooks.screensSubscription): every delivery is re-authorised */
  screened = false;
  readonly subs = new Map<string, ClientSub>();
  /** sent, unacknowledged, by packet id (Map order = send order: the retry order [MQTT-4.4.0-1]) */
  readonly inflightOut = new Map<number, Outbound>();
  readonly queue: Outbound[] = [];
  queuedQos0 = 0;
  /** QoS 2 packet ids received, PUBREC sent, awaiting PUBREL */
  readonly inflightIn = new Set<number>();
  will: Will | null = null;
  willTimer: NodeJS.Timeout | null = null;
  expiryTimer: NodeJS.Timeout | null = null;
  private nextPid = 1;
  private seq = 0;
  // scratch of the router walk (one copy per session per PUBLISH, see engine.route)
  epoch = 0;
  rQos: QoS = 0;
  rRap = false;
  rIds: number[] | null = null;

  constructor(readonly clientId: string, private readonly store: EngineStore) {}

  get persistent(): boolean { return this.expirySec > 0; }

  /** A free packet id, or 0 if all 65535 are in flight. */
  allocPid(): number {
    for (let n = 0; n < 65535; n++) {
      const pid = this.nextPid;
      this.nextPid = pid === 65535 ? 1 : pid + 1;
      if (!this.inflightOut.has(pid)) return pid;
    }
    return 0;
  }

  outbound(msg: Msg, qos: QoS, retain: boolean, ids: number[] | null): Outbound {
    return { seq: ++this.seq, msg, qos, retain, ids, pid: 0, state: 'queued' };
  }

  /** Applies the queue policy; false if the message was dropped (reason in `dropped`). */
  enqueue(o: Outbound, max: number, counters: Record<string, number>): boolean {
    if (this.queue.length >= max) {
      if (o.qos === 0 || this.queuedQos0 === 0) {
        counters[o.qos === 0 ? 'dropped_qos0' : 'queue_full']!++;
        return false;
      }
      const i = this.queue.findIndex((q) => q.qos === 0);
      const [evicted] = this.queue.splice(i, 1);
      this.queuedQos0--;
      counters.dropped_qos0!++;
      if (this.persistent && evicted) this.store.deleteOutbound(this.clientId, evicted.seq);
    }
    this.queue.push(o);
    if (o.qos === 0) this.queuedQos0++;
    else if (this.persistent) this.store.putOutbound(this.clientId, storedOutbound(o));
    return true;
  }

  dequeue(): Outbound | undefined {
    const o = this.queue.shift();
    if (o && o.qos === 0) this.queuedQos0--;
    return o;
  }

  /** A queued message that will not be sent (expired, refused, too large). */
  dropped(o: Outbound): void {
    if (o.qos > 0 && this.persistent) this.store.deleteOutbound(this.clientId, o.seq);
  }

  /** Records a message sent with a packet id (state publish/pubrel). */
  sent(o: Outbound): void {
    this.inflightOut.set(o.pid, o);
    if (this.persistent) this.store.putOutbound(this.clientId, storedOutbound(o));
  }

  acked(pid: number): Outbound | undefined {
    const o = this.inflightOut.get(pid);
    if (!o) return undefined;
    this.inflightOut.delete(pid);
    if (this.persistent) this.store.deleteOutbound(this.clientId, o.seq);
    return o;
  }

  released(o: Outbound): void {
    o.state = 'pubrel';
    if (this.persistent) this.store.putOutbound(this.clientId, storedOutbound(o));
  }

  /** `record` false: the caller records it with recordInflightIn once the message is committed (handlers/publish.ts). */
  addInflightIn(pid: number, record = true): void {
    this.inflightIn.add(pid);
    if (record && this.persistent) this.store.putInflightIn(this.clientId, pid);
  }

  recordInflightIn(pid: number): void {
    if (this.persistent) this.store.putInflightIn(this.clientId, pid);
  }

  deleteInflightIn(pid: number): boolean {
    if (!this.inflightIn.delete(pid)) return false;
    if (this.persistent) this.store.deleteInflightIn(this.clientId, pid);
    return true;
  }

  /** Drops every message held for the client (clean start, session end). */
  clearMessages(): void {
    this.inflightOut.clear();
    this.queue.length = 0;
    this.queuedQos0 = 0;
    this.inflightIn.clear();
  }

  /** Writes the whole session to the store (it just became persistent, or was rebuilt). */
  persistAll(): void {
    const s = this.store;
    this.stored = true;
    s.putSession({ clientId: this.clientId, protocolVersion: this.protocolVersion, expirySec: this.expirySec, owner: this.owner });
    for (const sub of this.subs.values()) s.putSubscription(this.clientId, { key: sub.key, qos: sub.qos, nl: sub.nl, rap: sub.rap, rh: sub.rh, id: sub.id });
    for (const o of this.inflightOut.values()) s.putOutbound(this.clientId, storedOutbound(o));
    for (const o of this.queue) if (o.qos > 0) s.putOutbound(this.clientId, storedOutbound(o));
    for (const pid of this.inflightIn) s.putInflightIn(this.clientId, pid);
  }

  setSeq(seq: number): void { if (seq > this.seq) this.seq = seq; }
}

export const storedMessage = (m: Msg): StoredMessage =>
  ({ topic: m.topic, payload: m.payload, qos: m.qos, retain: m.retain, ...(m.properties ? { properties: m.properties } : {}), ts: m.ts });

export const storedOutbound = (o: Outbound): StoredOutbound =>
  ({ seq: o.seq, msg: storedMessage(o.msg), qos: o.qos, retain: o.retain, ids: o.ids, pid: o.pid, state: o.state });

export const storedWill = (w: Will): StoredWill => ({ ...storedMessage(w.msg), delaySec: w.delaySec });
