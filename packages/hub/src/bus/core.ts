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
 *  - `shareGroup` is a plain subscription here: the bus is one process, and a
 *    client's `$share/{group}/…` must not divert what the hub's services receive.
 */
import { Engine, type EngineLimits, type EngineMessage, type Hooks } from '@fieldlink/mqtt';
import type { Bus, BusHandler, BusMessage, PublishOptions, SubscribeOptions, Subscription } from './types.js';
import { retainedFirst } from './retained-first.js';

export interface CoreBusOptions {
  hooks?: Partial<Hooks>;
  limits?: Partial<EngineLimits>;
}

/** A bus that also exposes its engine, for the MQTT door (TCP, TLS, /mqtt). */
export interface CoreBus extends Bus {
  readonly kind: 'embedded';
  readonly engine: 'core';
  readonly mqtt: Engine;
}

/**
 * The BusMessage of an engine message, kept on the engine's (extensible) message
 * object under a symbol: one wrapper per publish for every local subscriber
 * (item 2), without a WeakMap entry per message.
 */
const WRAPPED: unique symbol = Symbol('fieldlink.busMessage');
function toMessage(m: EngineMessage): BusMessage {
  const slotted = m as EngineMessage & { [WRAPPED]?: BusMessage };
  return (slotted[WRAPPED] ??= { topic: m.topic, payload: m.payload, qos: m.qos, retained: false, ts: m.ts });
}

const asRetained = (m: EngineMessage): BusMessage => ({ topic: m.topic, payload: m.payload, qos: m.qos, retained: true, ts: m.ts });

export function createCoreBus(opts: CoreBusOptions = {}): CoreBus {
  const mqtt = new Engine({ hooks: opts.hooks, limits: opts.limits });

  const publish = (topic: string, payload: Buffer | string, o: PublishOptions = {}) =>
    mqtt.publish({ topic, payload, qos: o.qos ?? 0, retain: o.retain ?? false });

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

  return { kind: 'embedded', engine: 'core', mqtt, publish, subscribe, retained, close: () => mqtt.close() };
}
