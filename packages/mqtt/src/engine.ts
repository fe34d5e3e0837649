/**
 * The engine: owns sessions, the router, retained messages and the store; takes
 * duplex streams (it never owns a socket: TCP, TLS and WebSocket are the hub's
 * adapters). Session lifecycle (detach, wills, expiry, restore) is in lifecycle.ts,
 * routing in delivery.ts, one module per inbound packet in handlers/.
 */
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { RecordCounter } from './acks.js';
import { Connection, State } from './connection.js';
import { Delivery } from './delivery.js';
import { resolveLimits } from './limits.js';
import { detach, endSession, restore } from './lifecycle.js';
import { MemoryStore } from './memory-store.js';
import { Msg } from './message.js';
import { RC } from './reasons.js';
import { Retained } from './retained.js';
import { Router, type ClientSub, type LocalSub } from './router.js';
import { storedMessage, type Session } from './session.js';
import type { EngineStore } from './store.js';
import { checkFilter, checkTopicName, parseShared } from './topics.js';
import type { ConnectionMeta, EngineLimits, EngineMessage, Hooks, PublishProps, QoS } from './types.js';

export interface EngineOptions {
  hooks?: Partial<Hooks>;
  limits?: Partial<EngineLimits>;
  store?: EngineStore;
  now?: () => number;
}

/** Every counter the engine keeps (for /metrics); all start at 0. */
export const COUNTERS = [
  'connections', 'connects_refused', 'takeovers', 'malformed', 'protocol_errors', 'packet_too_large', 'keepalive_timeout',
  'publish_in', 'refused_publish', 'delivered', 'dropped_qos0', 'dropped_qos0_offline', 'queue_full', 'expired',
  'refused_delivery', 'dropped_too_large_for_client', 'retained_refused', 'refused_subscribe', 'wills_published',
  'sessions_expired', 'local_handler_errors', 'internal_errors', 'acks_deferred', 'ack_refused', 'ack_backpressure',
] as const;

const allowAll: Hooks = {
  authenticate: async () => ({ ok: true, principal: undefined }),
  authorizePublish: () => 0,
  authorizeSubscribe: (_c, _f, qos) => qos,
  authorizeDelivery: () => true,
};

export class Engine {
  readonly limits: EngineLimits;
  readonly hooks: Hooks;
  readonly store: EngineStore;
  /** the store's record counter; null for the in-memory store (records applied at once) */
  readonly records: RecordCounter | null;
  readonly now: () => number;
  readonly sessions = new Map<string, Session>();
  readonly router = new Router();
  readonly retainedMsgs: Retained;
  readonly delivery: Delivery;
  readonly connections = new Set<Connection>();
  private readonly counts: Record<string, number> = Object.fromEntries(COUNTERS.map((k) => [k, 0]));
  private closing = false;

  constructor(opts: EngineOptions = {}) {
    this.limits = resolveLimits(opts.limits);
    this.hooks = { ...allowAll, ...opts.hooks };
    // a store that buffers records is counted, so a PUBLISH that changed state acks after its flush (acks.ts)
    const store = opts.store ?? new MemoryStore();
    this.records = store instanceof MemoryStore ? null : new RecordCounter(store);
    this.store = this.records ?? store;
    this.now = opts.now ?? Date.now;
    this.retainedMsgs = new Retained(this.limits.maxRetainedTopics, this.limits.maxRetainedBytes);
    this.delivery = new Delivery(this.router, this.limits, this.hooks, this.counts, this.now);
  }

  /** Loads what the store holds from a previous run (offline sessions, retained, due wills). Call before handle(). */
  restore(): Promise<void> { return restore(this); }

  handle(stream: Duplex, meta: ConnectionMeta): void {
    if (this.closing) { stream.destroy(); return; }
    const c = new Connection(this, stream, meta);
    this.connections.add(c);
    this.counts.connections!++;
  }

  /** In-process publish (the hub's bus): routed like a client's, without hooks. */
  /** Resolves to the routed message (the object local subscribers got). */
  async publish(m: { topic: string; payload: Buffer | string; qos?: QoS; retain?: boolean; properties?: PublishProps }): Promise<EngineMessage> {
    if (checkTopicName(m.topic, this.limits.maxTopicBytes) !== 0) throw new RangeError(`invalid topic name: ${JSON.stringify(m.topic.slice(0, 80))}`);
    const payload = typeof m.payload === 'string' ? Buffer.from(m.payload) : m.payload;
    const msg = new Msg(m.topic, payload, m.qos ?? 0, m.retain ?? false, m.properties, this.now());
    if (msg.retain && !this.retain(msg)) throw new RangeError('retained message quota exceeded (maxRetainedTopics / maxRetainedBytes)');
    this.delivery.route(msg, null);
    return msg;
  }

  /** In-process subscriber, called synchronously per matching message (the same object for all). Returns unsubscribe. */
  subscribeLocal(filter: string, handler: (m: EngineMessage) => void, opts: { shareGroup?: string } = {}): () => void {
    if (checkFilter(filter, this.limits.maxTopicBytes) !== 0) throw new RangeError(`invalid topic filter: ${JSON.stringify(filter.slice(0, 80))}`);
    const sub: LocalSub = { kind: 'local', filter, group: opts.shareGroup, handler };
    this.router.add(sub);
    let done = false;
    return () => { if (!done) { done = true; this.router.remove(sub); } };
  }

  async retained(filter: string): Promise<EngineMessage[]> {
    return this.retainedMsgs.match(filter, this.now());
  }

  disconnectClient(clientId: string, reasonCode: number = RC.ADMINISTRATIVE_ACTION, reasonString?: string): boolean {
    const c = this.sessions.get(clientId)?.conn;
    if (!c) return false;
    c.terminate(reasonCode, 'server', reasonString);
    return true;
  }

  get connectedClients(): number {
    let n = 0;
    for (const c of this.connections) if (c.state === State.Connected) n++;
    return n;
  }

  get counters(): Readonly<Record<string, number>> {
    return { ...this.counts, sessions: this.sessions.size, subscriptions: this.router.size, retained: this.retainedMsgs.size, retained_bytes: this.retainedMsgs.totalBytes };
  }

  count(name: (typeof COUNTERS)[number]): void { this.counts[name]!++; }

  async close(): Promise<void> {
    this.closing = true;
    for (const c of [...this.connections]) c.terminate(RC.SERVER_SHUTTING_DOWN, 'server');
    for (const s of this.sessions.values()) {
      if (s.willTimer) clearTimeout(s.willTimer);
      if (s.expiryTimer) clearTimeout(s.expiryTimer);
    }
    await this.store.flush();
  }

  // ---- used by handlers and lifecycle ----

  newClientId(): string { return `fl-${randomBytes(9).toString('base64url')}`; }

  /** Stores/replaces/clears a retained message; false when over quota (nothing stored). */
  retain(m: Msg): boolean {
    if (!this.retainedMsgs.set(m)) { this.counts.retained_refused!++; return false; }
    if (m.payload.length === 0) this.store.deleteRetained(m.topic);
    else this.store.putRetained(storedMessage(m));
    return true;
  }

  route(m: Msg, publisher: Session | null): number { return this.delivery.route(m, publisher); }
  pump(s: Session): void { this.delivery.pump(s); }

  /** Adds or replaces [MQTT-3.8.4-3] a client subscription; returns whether it existed. */
  subscribe(s: Session, key: string, o: { qos: QoS; nl: boolean; rap: boolean; rh: number; id: number }): boolean {
    const old = s.subs.get(key);
    if (old) { old.qos = o.qos; old.nl = o.nl; old.rap = o.rap; old.rh = o.rh; old.id = o.id; }
    else {
      const sh = parseShared(key);
      const sub: ClientSub = { kind: 'client', session: s, key, filter: sh ? sh.filter : key, group: sh ? sh.group : undefined, ...o };
      s.subs.set(key, sub);
      this.router.add(sub);
    }
    if (s.persistent) this.store.putSubscription(s.clientId, { key, ...o });
    return old !== undefined;
  }

  unsubscribe(s: Session, key: string): boolean {
    const sub = s.subs.get(key);
    if (!sub) return false;
    s.subs.delete(key);
    this.router.remove(sub);
    if (s.persistent) this.store.deleteSubscription(s.clientId, key);
    return true;
  }

  /** Retained messages for a new subscription, sent with RETAIN 1 [MQTT-3.3.1-8]. */
  sendRetained(s: Session, sub: ClientSub): void {
    for (const m of this.retainedMsgs.match(sub.filter, this.now())) {
      this.delivery.deliver(s, m, (m.qos < sub.qos ? m.qos : sub.qos) as QoS, true, sub.id !== 0 ? [sub.id] : null);
    }
  }

  detach(c: Connection, wasConnected: boolean, reason: string): void {
    this.connections.delete(c);
    detach(this, c, wasConnected, reason);
  }

  endSession(s: Session): void { endSession(this, s); }
}
