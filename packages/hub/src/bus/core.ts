/**
 * Embedded bus on Fieldlink's own MQTT engine (@fieldlink/mqtt, MQTT 3.1.1 and
 * 5.0; `--mqtt-engine core`). The MQTT door (transports/mqtt-door.ts) hands
 * streams to `engine.handle`; services and WebSocket doors subscribe here
 * in-process (`subscribeLocal`), so a browser never costs an MQTT session
 * (design.md: the door fans out itself).
 *
 * How the contract (types.ts) is kept:
 *  - The engine routes one EngineMessage object per publish to every local
 *    subscriber; it is wrapped once into a BusMessage (item 2).
 *  - `$` topics are not matched by leading wildcards in the engine [MQTT-4.7.2-1].
 *  - Retained first (item 4): live messages arriving while the retained ones are
 *    read are held, then delivered after them.
 *  - Holds (item 7): a QoS 1/2 message's BusMessage collects its handlers'
 *    commit promises; the engine's `durable` hook returns them for a client's
 *    PUBLISH (its PUBACK/PUBREC waits, mapped NotStored 'full' → 0x97, else
 *    0x80), `publish(…, {durable: true})` awaits them for an in-process one.
 *  - `shareGroup` is a plain subscription here: the bus is one process, and a
 *    client's `$share/{group}/…` must not divert what the hub's services receive.
 *
 * Durable state: with `store` (the hub's database, storage/mqtt-state.ts) the
 * engine restores sessions, retained messages, queues, in-flight ids and every
 * deadline before this resolves (so before any listener accepts): deadlines that
 * fell due while the hub was down fire right away. `close` flushes it and closes it.
 */
import { Engine, type EngineLimits, type EngineMessage, type EngineStore, type Hooks } from '@fieldlink/mqtt';
import type { Bus, BusHandler, BusMessage, PublishOptions, SubscribeOptions, Subscription } from './types.js';
import { retainedFirst } from './retained-first.js';
import { Holds, NotStored } from './hold.js';

export interface CoreBusOptions {
  hooks?: Partial<Hooks>;
  limits?: Partial<EngineLimits>;
  /** Where the engine's state outlives the process; default: memory only (lost on restart). */
  store?: EngineStore;
  /**
   * Asked before an in-process retained publish (WebSocket doors, services)
   * reaches the engine, which runs no hooks for those: an Error refuses it (the
   * publish rejects with it, nothing is routed). The hub's retained budget.
   */
  admitRetained?: (topic: string, payloadBytes: number) => Error | undefined;
}

/** A bus that also exposes its engine, for the MQTT door (TCP, TLS, /mqtt). */
export interface CoreBus extends Bus {
  readonly kind: 'embedded';
  readonly engine: 'core';
  readonly mqtt: Engine;
}

/** A live QoS 1/2 message: one per EngineMessage, with its holds. */
class HeldMessage implements BusMessage {
  readonly retained = false;
  readonly holds = new Holds();
  constructor(readonly topic: string, readonly payload: Buffer, readonly qos: 0 | 1 | 2, readonly ts: number) {}
  hold(commit: Promise<void>): void { this.holds.add(commit); }
}

/**
 * The BusMessage of an engine message, kept on the engine's (extensible) message
 * object under a symbol: one wrapper per publish for every local subscriber
 * (item 2), without a WeakMap entry per message. QoS 1/2: a HeldMessage.
 */
const WRAPPED: unique symbol = Symbol('fieldlink.busMessage');
type Slotted = EngineMessage & { [WRAPPED]?: BusMessage };
function toMessage(m: EngineMessage): BusMessage {
  return ((m as Slotted)[WRAPPED] ??= m.qos === 0
    ? { topic: m.topic, payload: m.payload, qos: m.qos, retained: false, ts: m.ts }
    : new HeldMessage(m.topic, m.payload, m.qos, m.ts));
}

/** What the message's handlers hold it for; undefined when nothing (or no handler saw it). */
const holdsOf = (m: EngineMessage): Promise<void> | undefined => {
  const b = (m as Slotted)[WRAPPED];
  return b instanceof HeldMessage ? b.holds.settled() : undefined;
};

/** The engine's refusal code for a NotStored: 0x97 Quota exceeded (retry later) or 0x80. */
const asRefusal = (e: unknown): never => {
  throw Object.assign(new Error(e instanceof Error ? e.message : 'not stored'), { reasonCode: e instanceof NotStored && e.why === 'full' ? 0x97 : 0x80 });
};

const durable = (_c: unknown, m: EngineMessage): Promise<void> | undefined => holdsOf(m)?.catch(asRefusal);

const asRetained = (m: EngineMessage): BusMessage => ({ topic: m.topic, payload: m.payload, qos: m.qos, retained: true, ts: m.ts });

export async function createCoreBus(opts: CoreBusOptions = {}): Promise<CoreBus> {
  const mqtt = new Engine({ hooks: { ...opts.hooks, durable }, limits: opts.limits, ...(opts.store ? { store: opts.store } : {}) });
  if (opts.store) await mqtt.restore();

  const admit = opts.admitRetained;
  const publish = async (topic: string, payload: Buffer | string, o: PublishOptions = {}): Promise<void> => {
    if (o.retain && admit) {
      const refused = admit(topic, typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length);
      if (refused) throw refused;
    }
    const m = await mqtt.publish({ topic, payload, qos: o.qos ?? 0, retain: o.retain ?? false });
    if (o.durable) await Promise.all([holdsOf(m), o.retain ? mqtt.store.flush() : undefined]); // a retained one: its record committed too
  };

  const retained = async (filter: string): Promise<BusMessage[]> => (await mqtt.retained(filter)).map(asRetained);

  const subscribe = async (filter: string, handler: BusHandler, o: SubscribeOptions = {}): Promise<Subscription> => {
    const gate = retainedFirst(handler, o.retained !== false);
    const off = mqtt.subscribeLocal(filter, (m) => gate.live(toMessage(m)));
    await gate.release(() => retained(filter));
    let active = true;
    return {
      filter,
      unsubscribe: async () => {
        if (!active) return;
        active = false;
        off();
      },
    };
  };

  const close = async (): Promise<void> => {
    try { await mqtt.close(); } // flushes the store
    finally { await opts.store?.close(); }
  };
  return { kind: 'embedded', engine: 'core', mqtt, publish, subscribe, retained, close };
}
