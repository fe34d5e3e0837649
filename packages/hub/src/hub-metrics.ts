/**
 * The hub's Prometheus metrics: one row per counter the doors, limits and
 * services keep (docs/security.md lists which limit feeds which metric).
 */
import type { Registry as PromRegistry } from 'prom-client';
import { createMetrics, type Sample } from './metrics.js';
import type { BrowserDoor } from './transports/browser/door.js';
import type { DeviceDoor } from './transports/device/door.js';
import type { MqttDoor } from './transports/mqtt-door.js';
import type { Registry } from './services/registry.js';
import type { Security } from './auth/index.js';

export interface MetricDeps {
  browser: BrowserDoor;
  device: DeviceDoor;
  /** The MQTT door of the embedded bus, when there is one (its clients and engine counters are counted). */
  mqtt: MqttDoor | undefined;
  registry: Registry;
  security: Security;
  ingestStats?: () => unknown;
}

const one = (v: number): Sample[] => [[{}, v]];

/** Samples of a `door:what` counter record (auth/index.ts), labelled door and `label`; one zero row when empty, so the metric exists. */
function perDoor(counts: Record<string, number>, label: string): Sample[] {
  const rows = Object.entries(counts).map(([k, v]): Sample => {
    const [door, what] = k.split(':');
    return [{ door: door!, [label]: what! }, v];
  });
  return rows.length ? rows : [[{ door: 'none', [label]: 'none' }, 0]];
}

export function hubMetrics(d: MetricDeps): PromRegistry {
  return createMetrics({
    fieldlink_connections: {
      help: 'Open connections per door',
      read: () => [
        [{ door: 'ws' }, d.browser.sessions.size],
        [{ door: 'ws_device' }, d.device.connected],
        [{ door: 'mqtt' }, d.mqtt?.connectedClients ?? 0],
      ],
    },
    fieldlink_devices_online: { help: 'Devices whose status is online', read: () => one(d.registry.list().filter((x) => x.online).length) },
    fieldlink_devices_known: { help: 'Devices ever seen', read: () => one(d.registry.list().length) },
    fieldlink_ws_pushes_sent: { help: 'Push frames written to open browser connections', read: () => one(d.browser.totals().sent) },
    fieldlink_ws_pushes_dropped: { help: 'Push frames dropped for slow browser connections (soft limit)', read: () => one(d.browser.totals().dropped) },
    fieldlink_auth_total: {
      help: 'Authentication attempts by result',
      read: () => {
        const c = d.security.authenticator.counters;
        return [[{ result: 'ok' }, c.ok], [{ result: 'failed' }, c.failed], [{ result: 'rate_limited' }, c.rateLimited]];
      },
    },
    fieldlink_denied_total: {
      help: 'Operations refused by the access rules, by door and action',
      read: () => perDoor(d.security.denied, 'action'),
    },
    fieldlink_errors_total: {
      help: 'Error replies by door and code name (docs/errors.md): bad input, refusals and limits',
      read: () => {
        const all = { ...d.security.errors };
        for (const [k, v] of Object.entries(d.mqtt?.errors() ?? {})) all[k] = (all[k] ?? 0) + v;
        return perDoor(all, 'code');
      },
    },
    fieldlink_rate_limited_total: { help: 'Publishes refused by --publish-rate', read: () => one(d.security.rateLimited) },
    fieldlink_connections_refused_total: { help: 'Connections refused by --max-connections / --max-connections-per-ip', read: () => one(d.security.connections.rejected) },
    fieldlink_mqtt_engine_total: {
      help: 'Counters of the MQTT engine (--mqtt-engine core): malformed packets, refusals, queue drops, by counter (docs/mqtt.md)',
      read: () => {
        const rows = Object.entries(d.mqtt?.counters() ?? {}).map(([k, v]): Sample => [{ counter: k }, v]);
        return rows.length ? rows : [[{ counter: 'none' }, 0]];
      },
    },
    fieldlink_ingest: {
      help: 'Ingest service counters (queued, written, dropped, rejected, batches, retries)',
      read: () => {
        const s = d.ingestStats?.() as Record<string, unknown> | undefined;
        if (!s) return [[{ counter: 'written' }, 0]];
        return Object.entries(s).filter(([, v]) => typeof v === 'number').map(([k, v]): Sample => [{ counter: k }, v as number]);
      },
    },
  });
}
