/**
 * The `$SYS` tree of the core MQTT engine, published by the hub on its bus (the
 * engine keeps counters but publishes nothing of its own). Aedes publishes its
 * own `$SYS/{broker id}/…`; this is the one for `--mqtt-engine core`, named as
 * Mosquitto names its topics so existing dashboards and scripts read it.
 *
 * Who sees it: `$SYS/#` needs a grant of its own (auth/acl.ts: `admin` by
 * default), and a leading wildcard never matches a `$` topic [MQTT-4.7.2-1], so a
 * viewer's `#` receives none of it. Clients cannot publish under `$` (the hooks
 * refuse it), so every message here is the hub's.
 *
 * The topics are SYS_TOPICS (docs/mqtt.md prints them). Retained ones are
 * republished every --mqtt-sys-interval-sec seconds when changed; events as each
 * happens.
 * A message the bus refuses (engine shutting down) is dropped: $SYS is a view.
 */
import type { Engine } from '@fieldlink/mqtt';
import type { Bus } from '../bus/types.js';

export const SYS_PREFIX = '$SYS/broker';

/** Every topic of the tree under SYS_PREFIX, for docs/mqtt.md. */
export const SYS_TOPICS: readonly { topic: string; retained: boolean; payload: string }[] = [
  { topic: 'version', retained: true, payload: '`fieldlink <version>`' },
  { topic: 'uptime', retained: true, payload: '`<n> seconds` since the hub started' },
  { topic: 'clients/connected', retained: true, payload: 'MQTT connections past CONNACK' },
  { topic: 'clients/total', retained: true, payload: 'sessions, connected and offline' },
  { topic: 'messages/received', retained: true, payload: 'PUBLISHes accepted from clients' },
  { topic: 'messages/sent', retained: true, payload: 'PUBLISHes delivered to clients' },
  { topic: 'subscriptions/count', retained: true, payload: "subscriptions, clients' and the hub's own" },
  { topic: 'retained messages/count', retained: true, payload: 'retained messages held' },
  { topic: 'new/clients', retained: false, payload: 'the client id of a connection just accepted' },
  { topic: 'disconnect/clients', retained: false, payload: 'the client id of a connection just ended' },
];

export interface SysTree {
  /** A connection was accepted (its CONNACK sent). */
  connected(clientId: string): void;
  /** A connection ended, for whatever reason. */
  disconnected(clientId: string): void;
  stop(): void;
}

export function startSysTree(bus: Bus, engine: Engine, o: { intervalSec: number; version: string; now?: () => number }): SysTree {
  const now = o.now ?? Date.now;
  const started = now();
  const last = new Map<string, string>();
  const put = (topic: string, value: string, retain: boolean) => {
    bus.publish(`${SYS_PREFIX}/${topic}`, value, { retain }).catch(() => undefined);
  };
  /** Retained values, published only when they changed since the last time. */
  const state = (topic: string, value: string | number) => {
    const v = String(value);
    if (last.get(topic) === v) return;
    last.set(topic, v);
    put(topic, v, true);
  };
  const tick = () => {
    const c = engine.counters;
    state('version', `fieldlink ${o.version}`);
    state('uptime', `${Math.floor((now() - started) / 1000)} seconds`);
    state('clients/connected', engine.connectedClients);
    state('clients/total', c.sessions ?? 0);
    state('messages/received', c.publish_in ?? 0);
    state('messages/sent', c.delivered ?? 0);
    state('subscriptions/count', c.subscriptions ?? 0);
    state('retained messages/count', c.retained ?? 0);
  };
  tick();
  const timer = o.intervalSec > 0 ? setInterval(tick, o.intervalSec * 1000) : undefined;
  timer?.unref();
  return {
    // Events only: the counts wait for the next tick (counting connections is O(n); a burst of n connects must stay O(n)).
    connected(clientId) {
      put('new/clients', clientId, false);
    },
    disconnected(clientId) {
      put('disconnect/clients', clientId, false);
    },
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}
