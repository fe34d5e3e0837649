/**
 * Embedded bus on Aedes 1.2 (`--mqtt-engine aedes`, selectable while the core
 * engine replaces it: bus/core.ts). The MQTT door (transports/mqtt-door.ts) hands
 * streams to `broker.handle`; services and WebSocket doors subscribe here
 * directly, so a browser never costs a broker client (design.md: the door fans
 * out itself).
 */
import { Aedes, type AedesOptions, type AedesPublishPacket } from 'aedes';
import { topicMatches } from '@fieldlink/protocol';
import type { Bus, BusHandler, BusMessage, PublishOptions, SubscribeOptions, Subscription } from './types.js';
import { retainedFirst } from './retained-first.js';

type DeliverFn = (packet: AedesPublishPacket, cb: () => void) => void;

export interface EmbeddedBusOptions {
  broker?: Partial<AedesOptions>;
}

/** A bus that also exposes its broker, for the MQTT door (TCP, TLS, /mqtt). */
export interface AedesBus extends Bus {
  readonly kind: 'embedded';
  readonly engine: 'aedes';
  readonly broker: Aedes;
}

// One BusMessage per publish, shared by every local subscription (contract item 2).
const wrapped = new WeakMap<object, BusMessage>();

function toMessage(packet: AedesPublishPacket): BusMessage {
  let m = wrapped.get(packet);
  if (!m) {
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    m = { topic: packet.topic, payload, qos: packet.qos, retained: false, ts: Date.now() };
    wrapped.set(packet, m);
  }
  return m;
}

// [MQTT-4.7.2-1] filters starting with a wildcard never match topics starting with '$'.
const dollarBlocked = (filter: string, topic: string) =>
  topic.charCodeAt(0) === 36 && (filter.charCodeAt(0) === 43 || filter.charCodeAt(0) === 35);

export async function createEmbeddedBus(opts: EmbeddedBusOptions = {}): Promise<AedesBus> {
  const broker = await Aedes.createBroker({ heartbeatInterval: 60_000, drainTimeout: 30_000, ...opts.broker });

  const publish = (topic: string, payload: Buffer | string, o: PublishOptions = {}) =>
    new Promise<void>((resolve, reject) => {
      const packet = {
        cmd: 'publish' as const,
        topic,
        payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
        qos: o.qos ?? 0,
        retain: o.retain ?? false,
        dup: false,
      };
      broker.publish(packet, (err) => (err ? reject(err) : resolve()));
    });

  const retained = async (filter: string): Promise<BusMessage[]> => {
    const out: BusMessage[] = [];
    // `persistence` is public in Aedes but missing from its type declarations.
    const persistence = (broker as unknown as { persistence: { createRetainedStreamCombi(p: string[]): AsyncIterable<AedesPublishPacket> } }).persistence;
    const stream = persistence.createRetainedStreamCombi([filter]);
    for await (const p of stream) {
      if (dollarBlocked(filter, p.topic) || !topicMatches(filter, p.topic)) continue;
      const payload = typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload;
      out.push({ topic: p.topic, payload, qos: p.qos, retained: true, ts: Date.now() });
    }
    return out;
  };

  const subscribe = async (filter: string, handler: BusHandler, o: SubscribeOptions = {}): Promise<Subscription> => {
    const gate = retainedFirst(handler, o.retained !== false); // contract item 4
    const deliver: DeliverFn = (packet, cb) => {
      if (!dollarBlocked(filter, packet.topic)) gate.live(toMessage(packet));
      cb();
    };
    await new Promise<void>((resolve) => broker.subscribe(filter, deliver, () => resolve()));
    await gate.release(() => retained(filter));
    let active = true;
    return {
      filter,
      unsubscribe: () =>
        new Promise<void>((resolve) => {
          if (!active) return resolve();
          active = false;
          broker.unsubscribe(filter, deliver, () => resolve());
        }),
    };
  };

  const close = () => new Promise<void>((resolve) => broker.close(() => resolve()));

  return { kind: 'embedded', engine: 'aedes', broker, publish, subscribe, retained, close };
}
