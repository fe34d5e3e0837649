/**
 * The bus: MQTT publish/subscribe semantics shared by every door and service.
 *
 * Delivery and ordering contract (every backend passes test/bus-contract.ts):
 *  1. A message published is delivered to every subscription whose filter matches
 *     its topic at the time the publish is processed, with MQTT filter semantics
 *     (`+` one level, `#` the rest including the parent, wildcards at the first
 *     level never match `$` topics). A subscription is active once `subscribe()`
 *     has resolved.
 *  2. Each subscription receives one call per matching publish, even if another
 *     subscription of the same process also matches. One publish is delivered to
 *     all local subscriptions as the same `BusMessage` object, so a consumer that
 *     holds overlapping filters can de-duplicate by identity.
 *  3. Order: messages from one publisher on one topic at one QoS arrive in publish
 *     order (MQTT 3.1.1 §4.6). Nothing is promised across topics, publishers or QoS
 *     levels (Aedes routes QoS 0 at once and QoS 1/2 after persisting them).
 *  4. Retained: a publish with `retain` replaces the topic's retained message; an
 *     empty payload with `retain` clears it. `subscribe(…, {retained: true})`
 *     delivers the matching retained messages (with `retained: true`) before any
 *     live message on the same topic, then live ones (with `retained: false`).
 *  5. QoS is carried for MQTT peers; within the process delivery is at-most-once
 *     and synchronous with the publish being routed (handlers must not block: they
 *     queue or drop under their own documented policy).
 *  6. `publish()` resolves when the backend has accepted the message (embedded:
 *     routed to every local subscriber; external: acknowledged per its QoS).
 *     With `durable: true` on the core engine it resolves when every hold of the
 *     message (7) is committed, and rejects with the NotStored of the first that
 *     is not; Aedes and the external bus have no holds (it resolves as without).
 *  7. Holds (bus/hold.ts): a message published at QoS ≥ 1 on the core engine
 *     has `hold`; a handler whose work makes it durable passes its commit promise,
 *     and the publisher's acknowledgement (MQTT PUBACK/PUBREC, the device door's
 *     ack) waits for it. Other backends leave `hold` undefined.
 */
export interface BusMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: 0 | 1 | 2;
  /** True only for retained messages delivered because of a new subscription. */
  readonly retained: boolean;
  /** Hub receive time, ms since epoch. */
  readonly ts: number;
  /** Contract item 7: hold the publisher's acknowledgement until `commit` settles. */
  hold?(commit: Promise<void>): void;
}

export type BusHandler = (msg: BusMessage) => void;

export interface PublishOptions {
  qos?: 0 | 1 | 2;
  retain?: boolean;
  /** Resolve only once every hold is committed (contract item 6). */
  durable?: boolean;
}

export interface SubscribeOptions {
  /** Deliver matching retained messages first (default true, as MQTT does). */
  retained?: boolean;
  /**
   * Share matching messages among every subscriber of this group, across hubs
   * (an MQTT shared subscription, `$share/{group}/{filter}`): each message reaches
   * one of them. Ingest uses it so that hubs on one broker store each point once.
   * The embedded bus is one process: there it is a plain subscription.
   */
  shareGroup?: string;
}

export interface Subscription {
  readonly filter: string;
  unsubscribe(): Promise<void>;
}

export interface Bus {
  readonly kind: string;
  publish(topic: string, payload: Buffer | string, opts?: PublishOptions): Promise<void>;
  subscribe(filter: string, handler: BusHandler, opts?: SubscribeOptions): Promise<Subscription>;
  /** Current retained messages matching `filter` (used by registry start-up and `devices`). */
  retained(filter: string): Promise<BusMessage[]>;
  close(): Promise<void>;
}
