/**
 * External bus: an MQTT 5 broker the hub does not own (Mosquitto, EMQX, HiveMQ, a
 * cluster of them), reached with MQTT.js. Devices talk to the broker directly;
 * the hub's services and WebSocket doors subscribe here.
 *
 * How the contract (types.ts) is kept over a broker:
 *  - One broker subscription, `#`, feeds every local subscription: each message
 *    arrives once and becomes one BusMessage shared by all matching local filters
 *    (item 2), found with a topic trie (topic-index.ts). A broker sends a copy per
 *    matching subscription (Mosquitto does, each with its subscription
 *    identifier), so per-filter subscriptions would deliver duplicates to a
 *    consumer holding overlapping filters. Filters starting with
 *    `$` (not matched by `#`, [MQTT-4.7.2-1]) and shared subscriptions get their own
 *    broker subscription; messages are routed by subscription identifier.
 *  - Retained messages: the data subscriptions use retain handling 2 (never send
 *    retained on subscribe), so a new local subscription gets its retained messages
 *    from `retained()`: a second connection subscribes the filter, then publishes a
 *    marker to its own `$fieldlink/sync/…` topic; the broker sends the filter's
 *    retained messages before the marker (one session, in order). Live messages
 *    arriving meanwhile wait (item 4).
 *  - A retained publish is sent at QoS 1 at least, so it is stored by the broker
 *    when `publish()` resolves and a later subscription on any connection sees it.
 *  - QoS 1/2 publishes in flight are kept within the broker's Receive Maximum
 *    (Mosquitto: 20), queued in order beyond it.
 *  - Order per publisher, topic and QoS is the broker's (MQTT 3.1.1 §4.6).
 *  - Topics under `$fieldlink/sync/` are this bus's own markers.
 *  - Lost connection: MQTT.js reconnects every second and subscribes again (clean
 *    session: what the broker routed meanwhile is not replayed; browsers backfill
 *    telemetry from history, the registry catches up from retained status).
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { topicMatches } from '@fieldlink/protocol';
import { redactUrl } from '../redact.js';
import { createTopicIndex } from './topic-index.js';
import type { Bus, BusHandler, BusMessage, PublishOptions, SubscribeOptions, Subscription } from './types.js';

export interface ExternalBusOptions {
  /** `mqtt://`, `mqtts://`, `ws://` or `wss://` URL of the broker; credentials go in it (`mqtt://user:pass@host`). */
  url: string;
  /** Give up the first connection after this long (default 10,000 ms). */
  connectTimeoutMs?: number;
}

interface Local {
  handler: BusHandler;
  /** Live messages held while this subscription's retained ones are being read. */
  held?: BusMessage[];
}

const ALL = 1; // subscription identifier of `#`
const SYNC = '$fieldlink/sync/';

export async function createExternalBus(opts: ExternalBusOptions): Promise<Bus> {
  const id = `fieldlink-${randomBytes(4).toString('hex')}`; // a random suffix keeps hubs apart
  const base: IClientOptions = {
    protocolVersion: 5,
    clean: true,
    reconnectPeriod: 1000,
    connectTimeout: opts.connectTimeoutMs ?? 10_000,
  };
  const connect = (clientId: string) => new Promise<{ client: MqttClient; receiveMaximum: number }>((resolve, reject) => {
    const client = mqtt.connect(opts.url, { ...base, clientId });
    const fail = (err: Error) => {
      clearTimeout(timer);
      client.end(true);
      reject(new Error(`MQTT broker at ${redactUrl(opts.url)} is unreachable: ${err.message}`, { cause: err }));
    };
    const timer = setTimeout(() => fail(new Error(`no CONNACK within ${base.connectTimeout} ms`)), base.connectTimeout);
    client.once('error', fail);
    client.once('connect', (connack) => {
      clearTimeout(timer);
      client.off('error', fail);
      client.on('error', () => undefined); // later errors: MQTT.js reconnects; calls in flight reject
      resolve({ client, receiveMaximum: connack.properties?.receiveMaximum ?? 65_535 });
    });
  });
  const { client: main, receiveMaximum } = await connect(id);
  const { client: reader } = await connect(`${id}-r`);

  // Local subscriptions fed by `#`, by filter (MQTT wildcards); and per dedicated broker subscription.
  const everyone = createTopicIndex<Local>();
  const locals = new Map<number, Set<Local>>();
  const dedicated = new Map<string, { sid: number; count: number }>(); // `$` filters and shared groups
  let nextSid = ALL + 1;

  main.on('message', (topic, payload, packet) => {
    // Live messages come with retain 0 ([MQTT-3.3.1-9]); retain 1 only answers a (re)subscription, which
    // rh 2 should prevent: were a broker to send them anyway (after a reconnect), they are old state, not news.
    if (packet.retain || topic.startsWith(SYNC)) return;
    const sids = packet.properties?.subscriptionIdentifier;
    const list = sids === undefined ? [ALL] : Array.isArray(sids) ? sids : [sids];
    let msg: BusMessage | undefined;
    for (const sid of list) {
      // A dedicated subscription's locals all hold its one filter, which the broker has matched.
      for (const l of sid === ALL ? everyone.match(topic) : locals.get(sid) ?? []) {
        msg ??= { topic, payload, qos: packet.qos, retained: false, ts: Date.now() };
        if (l.held) l.held.push(msg);
        else l.handler(msg);
      }
    }
  });
  await main.subscribeAsync('#', { qos: 2, rh: 2, properties: { subscriptionIdentifier: ALL } });

  // retained(): one read at a time on the reader connection, each ended by its own marker.
  let reading: Promise<unknown> = Promise.resolve();
  let marker = 0;
  const syncTopic = `${SYNC}${id}`;
  await reader.subscribeAsync(syncTopic, { qos: 0 });

  const readRetained = (filter: string): Promise<BusMessage[]> => {
    const run = async () => {
      const out: BusMessage[] = [];
      const want = String(++marker);
      const done = new Promise<void>((resolve) => {
        const onMessage = (topic: string, payload: Buffer, packet: mqtt.IPublishPacket) => {
          if (topic === syncTopic) {
            if (payload.toString() !== want) return;
            reader.off('message', onMessage);
            return resolve();
          }
          if (packet.retain && payload.length > 0 && topicMatches(filter, topic)) {
            out.push({ topic, payload, qos: packet.qos, retained: true, ts: Date.now() });
          }
        };
        reader.on('message', onMessage);
      });
      await reader.subscribeAsync(filter, { qos: 0, rh: 0 });
      await reader.publishAsync(syncTopic, want, { qos: 0 });
      await done;
      await reader.unsubscribeAsync(filter);
      return out;
    };
    const p = reading.then(run, run);
    reading = p.catch(() => undefined);
    return p;
  };

  const brokerFilterOf = (filter: string, o: SubscribeOptions) =>
    o.shareGroup ? `$share/${o.shareGroup}/${filter}` : filter.startsWith('$') ? filter : undefined;

  const subscribe = async (filter: string, handler: BusHandler, o: SubscribeOptions = {}): Promise<Subscription> => {
    const local: Local = { handler, ...(o.retained === false ? {} : { held: [] }) };
    const brokerFilter = brokerFilterOf(filter, o);
    let sid = ALL;
    if (brokerFilter !== undefined) {
      let d = dedicated.get(brokerFilter);
      if (!d) {
        d = { sid: nextSid++, count: 0 };
        dedicated.set(brokerFilter, d);
        locals.set(d.sid, new Set());
        await main.subscribeAsync(brokerFilter, { qos: 2, rh: 2, properties: { subscriptionIdentifier: d.sid } });
      }
      d.count++;
      sid = d.sid;
    }
    if (sid === ALL) everyone.add(filter, local);
    else locals.get(sid)!.add(local);
    if (local.held) {
      try {
        for (const m of await readRetained(filter)) handler(m);
      } finally {
        const live = local.held;
        delete local.held;
        for (const m of live) handler(m);
      }
    }
    let active = true;
    return {
      filter,
      async unsubscribe() {
        if (!active) return;
        active = false;
        if (brokerFilter === undefined) return void everyone.remove(filter, local);
        locals.get(sid)?.delete(local);
        const d = dedicated.get(brokerFilter)!;
        if (--d.count > 0) return;
        dedicated.delete(brokerFilter);
        locals.delete(d.sid);
        await main.unsubscribeAsync(brokerFilter);
      },
    };
  };

  // Receive Maximum: QoS 1/2 publishes beyond it wait here, in order.
  let inFlight = 0;
  const waiting: (() => void)[] = [];
  const publish = async (topic: string, payload: Buffer | string, o: PublishOptions = {}): Promise<void> => {
    const retain = o.retain ?? false;
    const qos = retain ? Math.max(1, o.qos ?? 0) as 1 | 2 : o.qos ?? 0;
    if (qos === 0) return void (await main.publishAsync(topic, payload, { qos, retain }));
    // A finished publish hands its slot to the next waiter, so a newcomer cannot overtake it.
    if (inFlight >= receiveMaximum || waiting.length > 0) await new Promise<void>((r) => waiting.push(r));
    else inFlight++;
    try {
      await main.publishAsync(topic, payload, { qos, retain });
    } finally {
      const next = waiting.shift();
      if (next) next();
      else inFlight--;
    }
  };

  const close = async () => {
    await Promise.allSettled([main.endAsync(), reader.endAsync()]);
  };

  return { kind: 'external', publish, subscribe, retained: readRetained, close };
}
