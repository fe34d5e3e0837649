/**
 * The hub's Prometheus metrics: one row per counter the doors, limits and
 * services keep (docs/security.md lists which limit feeds which metric).
 */
import type { Registry as PromRegistry } from 'prom-client';
import { createMetrics, type Sample } from './metrics.js';
import type { BrowserDoor } from './transports/browser/door.js';
import type { DeviceDoor } from './transports/device/door.js';
import type { Aedes } from 'aedes';
import type { Registry } from './services/registry.js';
import type { Security } from './auth/index.js';
import type { SessionOwners } from './auth/mqtt-policy.js';
import type { RetainedBudget } from './auth/retained-budget.js';

export interface MetricDeps {
  browser: BrowserDoor;
  device: DeviceDoor;
  /** The embedded broker, when there is one (its MQTT clients are counted). */
  broker: Aedes | undefined;
  registry: Registry;
  security: Security;
  ingestStats?: () => unknown;
  /** The embedded broker's client-id/session owners and retained budget. */
  mqtt?: { sessions: SessionOwners; retained: RetainedBudget };
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
        [{ door: 'mqtt' }, d.broker?.connectedClients ?? 0],
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
      read: () => perDoor(d.security.errors, 'code'),
    },
    fieldlink_rate_limited_total: { help: 'Publishes refused by --publish-rate', read: () => one(d.security.rateLimited) },
    fieldlink_connections_refused_total: { help: 'Connections refused by --max-connections / --max-connections-per-ip', read: () => one(d.security.connections.rejected) },
    fieldlink_mqtt_client_id_refused_total: {
      help: 'MQTT CONNECTs refused for their client id, by reason (not_device_id, reserved, session_owned, too_many_sessions)',
      read: () => Object.entries(d.mqtt?.sessions.refused ?? { none: 0 }).map(([reason, v]): Sample => [{ reason }, v]),
    },
    fieldlink_retained_refused_total: {
      help: 'Retained messages refused by the retained limits, by reason (owner_bytes, owner_topics, total_bytes, total_topics)',
      read: () => Object.entries(d.mqtt?.retained.refused ?? { none: 0 }).map(([reason, v]): Sample => [{ reason }, v]),
    },
    fieldlink_retained_bytes: { help: 'Retained bytes held by the embedded broker (as the retained limits count them)', read: () => one(d.mqtt?.retained.bytes ?? 0) },
    fieldlink_retained_topics: { help: 'Retained topics held by the embedded broker', read: () => one(d.mqtt?.retained.topics ?? 0) },
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
