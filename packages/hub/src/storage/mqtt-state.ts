/**
 * The MQTT engine's durable state (EngineStore, packages/mqtt/src/store.ts) on
 * the hub's database: this module is the recording side both backends share;
 * mqtt-state-sqlite.ts and mqtt-state-postgres.ts apply and load the rows.
 *
 * Group commit: a record call only appends a row to the buffer (synchronous,
 * no I/O, no await on the engine's hot path). Once per tick (setImmediate) the
 * whole buffer is committed in ONE transaction, never an fsync per message.
 * One commit at a time, in recording order; records made meanwhile form the
 * next batch. `flush()` resolves when every record made before it is committed
 * (the engine's ack path waits on it), and rejects if that commit fails.
 *
 * Buffer policy (bounded, counted in `stats()`):
 *  - A failed commit (database down, disk full) rejects the flushes waiting on
 *    it (`commitFailures`), keeps its rows at the head of the buffer and is
 *    retried after `retryMs`, so nothing is lost while the buffer has room.
 *  - The buffer holds at most `maxPending` rows (default 200,000). Beyond that a
 *    new row is dropped (`dropped`), and from then on every `flush()` rejects:
 *    the database no longer matches the engine, and no acknowledgement may claim
 *    it does. After a restart the hub runs from what was committed.
 */
import type { EngineStore, PublishProps, StoreSnapshot, StoredMessage, StoredOutbound, StoredSessionHead, StoredSubscription, StoredWill } from '@fieldlink/mqtt';

/** A message as stored: payload as a blob, properties as JSON (Buffers tagged). */
export interface MsgRow { topic: string; payload: Uint8Array; qos: number; retain: boolean; props: string | null; ts: number }

/** One recorded change, as it crosses to the writer (plain data: structured-clonable). */
export type StateOp =
  | { k: 'session'; c: string; proto: number; expirySec: number; owner: string | null }
  | { k: 'expiry'; c: string; at: number | null }
  | { k: 'delSession'; c: string }
  | { k: 'sub'; c: string; key: string; qos: number; nl: boolean; rap: boolean; rh: number; id: number }
  | { k: 'delSub'; c: string; key: string }
  | { k: 'out'; c: string; seq: number; m: MsgRow; qos: number; retain: boolean; ids: string | null; pid: number; state: StoredOutbound['state'] }
  | { k: 'delOut'; c: string; seq: number }
  | { k: 'in'; c: string; pid: number }
  | { k: 'delIn'; c: string; pid: number }
  | { k: 'will'; c: string; m: MsgRow; delaySec: number; at: number | null }
  | { k: 'delWill'; c: string }
  | { k: 'ret'; m: MsgRow }
  | { k: 'delRet'; topic: string };

/** What a backend does: commit one batch atomically, read everything back. */
export interface StateBackend {
  apply(ops: StateOp[]): Promise<void>;
  load(): Promise<StoreSnapshot>;
}

export interface MqttStateStats {
  /** rows recorded and not yet committed (a commit in progress included) */
  pending: number;
  /** rows committed so far */
  committed: number;
  /** transactions committed */
  commits: number;
  /** commit attempts that failed (each rejected the flushes waiting on it) */
  commitFailures: number;
  /** rows dropped because the buffer was full (the store is then behind the engine) */
  dropped: number;
}

/** An EngineStore the hub reports on (/metrics) and shuts down with the bus. */
export interface MqttStateStore extends EngineStore {
  stats(): MqttStateStats;
}

export interface BufferOptions {
  maxPending?: number;
  retryMs?: number;
}

const propsJson = (p: PublishProps | undefined): string | null =>
  p === undefined ? null : JSON.stringify(p, (_k, v: unknown) => (v && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)
    ? { $b64: Buffer.from((v as { data: number[] }).data).toString('base64') } : v));

export const parseProps = (s: string | null): PublishProps | undefined =>
  s === null ? undefined : JSON.parse(s, (_k, v: unknown) => (v && typeof v === 'object' && typeof (v as { $b64?: unknown }).$b64 === 'string'
    ? Buffer.from((v as { $b64: string }).$b64, 'base64') : v)) as PublishProps;

/** The owner (the hub's principal) as JSON; one that does not serialise (a cycle) is stored as none rather than throw on the engine's hot path. */
function ownerJson(owner: unknown): string | null {
  if (owner === undefined) return null;
  try { return JSON.stringify(owner) ?? null; } catch { return null; }
}

export const msgRow = (m: StoredMessage): MsgRow => ({ topic: m.topic, payload: m.payload, qos: m.qos, retain: m.retain, props: propsJson(m.properties), ts: m.ts });

/** A stored row back to the engine's shape (`properties` only when there were any). */
export function storedMessage(r: { topic: string; payload: Buffer; qos: number; retain: boolean | number; props: string | null; ts: number }): StoredMessage {
  const props = parseProps(r.props);
  return { topic: r.topic, payload: r.payload, qos: r.qos as StoredMessage['qos'], retain: Boolean(r.retain), ...(props ? { properties: props } : {}), ts: Number(r.ts) };
}

/**
 * A batch as the backends commit it: the same end state, fewer statements. Between
 * two session puts/deletes (the only records others depend on, through "rows of
 * unknown sessions are ignored"), the records of the hot kinds, outbound and
 * retained, keep only the last one per key (a message queued, sent and
 * acknowledged within one tick is one delete, not three writes: batched deletes,
 * flash-friendly), deletes first, then puts; every other record stays in order.
 */
export function coalesce(ops: StateOp[]): StateOp[] {
  const out: StateOp[] = [];
  let hot = new Map<string, StateOp>();
  const drain = () => {
    const v = [...hot.values()];
    for (const o of v) if (o.k === 'delOut' || o.k === 'delRet') out.push(o);
    for (const o of v) if (o.k === 'out' || o.k === 'ret') out.push(o);
    hot = new Map();
  };
  for (const o of ops) {
    switch (o.k) {
      case 'out': case 'delOut': hot.delete(`o${o.c}\u0000${o.seq}`); hot.set(`o${o.c}\u0000${o.seq}`, o); break;
      case 'ret': hot.delete(`r${o.m.topic}`); hot.set(`r${o.m.topic}`, o); break;
      case 'delRet': hot.delete(`r${o.topic}`); hot.set(`r${o.topic}`, o); break;
      case 'session': case 'delSession': drain(); out.push(o); break;
      default: out.push(o);
    }
  }
  drain();
  return out;
}

type Waiter = { resolve: () => void; reject: (e: Error) => void };

export class BufferedState implements MqttStateStore {
  private pending: StateOp[] = [];
  /** flushes waiting for the rows now in `pending` */
  private waiters: Waiter[] = [];
  /** flushes waiting for the commit in progress */
  private inflight: Waiter[] | null = null;
  private inflightRows = 0;
  private scheduled = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private degraded: Error | null = null;
  private readonly maxPending: number;
  private readonly retryMs: number;
  private readonly counts = { committed: 0, commits: 0, commitFailures: 0, dropped: 0 };

  constructor(private readonly backend: StateBackend, opts: BufferOptions = {}) {
    this.maxPending = Math.max(1, opts.maxPending ?? 200_000);
    this.retryMs = opts.retryMs ?? 1000;
  }

  load(): Promise<StoreSnapshot> { return this.backend.load(); }

  putSession(s: StoredSessionHead): void {
    this.rec({ k: 'session', c: s.clientId, proto: s.protocolVersion, expirySec: s.expirySec, owner: ownerJson(s.owner) });
  }
  setSessionExpiry(c: string, at: number | null): void { this.rec({ k: 'expiry', c, at }); }
  deleteSession(c: string): void { this.rec({ k: 'delSession', c }); }
  putSubscription(c: string, s: StoredSubscription): void { this.rec({ k: 'sub', c, key: s.key, qos: s.qos, nl: s.nl, rap: s.rap, rh: s.rh, id: s.id }); }
  deleteSubscription(c: string, key: string): void { this.rec({ k: 'delSub', c, key }); }
  putOutbound(c: string, o: StoredOutbound): void {
    this.rec({ k: 'out', c, seq: o.seq, m: msgRow(o.msg), qos: o.qos, retain: o.retain, ids: o.ids ? JSON.stringify(o.ids) : null, pid: o.pid, state: o.state });
  }
  deleteOutbound(c: string, seq: number): void { this.rec({ k: 'delOut', c, seq }); }
  putInflightIn(c: string, pid: number): void { this.rec({ k: 'in', c, pid }); }
  deleteInflightIn(c: string, pid: number): void { this.rec({ k: 'delIn', c, pid }); }
  putWill(c: string, w: StoredWill, at: number | null): void { this.rec({ k: 'will', c, m: msgRow(w), delaySec: w.delaySec, at }); }
  deleteWill(c: string): void { this.rec({ k: 'delWill', c }); }
  putRetained(m: StoredMessage): void { this.rec({ k: 'ret', m: msgRow(m) }); }
  deleteRetained(topic: string): void { this.rec({ k: 'delRet', topic }); }

  stats(): MqttStateStats { return { pending: this.pending.length + this.inflightRows, ...this.counts }; }

  /** Resolves once every row recorded before the call is committed; rejects if that commit failed or rows were dropped. */
  flush(): Promise<void> {
    if (this.degraded) return Promise.reject(this.degraded);
    if (this.pending.length === 0 && this.inflight === null) return Promise.resolve();
    return new Promise<void>((resolve, reject) => (this.pending.length > 0 ? this.waiters : this.inflight!).push({ resolve, reject }));
  }

  /** Commits what is buffered (retrying while the database answers errors, for at most `retryMs` × 5), then stops. */
  async close(): Promise<void> {
    if (this.closed) return;
    for (let attempt = 0; attempt < 5; attempt++) {
      try { await this.flush(); break; } catch { if (this.degraded) break; }
    }
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  private rec(op: StateOp): void {
    if (this.closed) return;
    if (this.pending.length >= this.maxPending) {
      this.counts.dropped++;
      this.degraded ??= new Error(`MQTT state buffer full (${this.maxPending} rows): the database is behind the engine until the hub restarts`);
      return;
    }
    this.pending.push(op);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.inflight !== null || this.retryTimer !== null) return;
    this.scheduled = true;
    setImmediate(() => { this.scheduled = false; void this.commit(); });
  }

  private async commit(): Promise<void> {
    if (this.pending.length === 0 || this.inflight !== null) return;
    const batch = this.pending;
    const waiters = this.waiters;
    this.pending = [];
    this.waiters = [];
    this.inflight = waiters;
    this.inflightRows = batch.length;
    try {
      await this.backend.apply(coalesce(batch));
      this.counts.commits++;
      this.counts.committed += batch.length;
      this.inflight = null;
      this.inflightRows = 0;
      for (const w of waiters) w.resolve();
      if (this.degraded) for (const w of this.waiters.splice(0)) w.reject(this.degraded);
    } catch (err) {
      this.counts.commitFailures++;
      this.inflight = null;
      this.inflightRows = 0;
      // keep the rows, in order, ahead of what was recorded meanwhile
      this.pending = batch.concat(this.pending);
      const error = err instanceof Error ? err : new Error(String(err));
      for (const w of waiters) w.reject(error);
      if (!this.closed) {
        this.retryTimer = setTimeout(() => { this.retryTimer = null; void this.commit(); }, this.retryMs);
        this.retryTimer.unref();
      }
      return;
    }
    if (this.pending.length > 0) this.schedule();
  }
}
