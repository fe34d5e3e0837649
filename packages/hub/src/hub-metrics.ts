/**
 * The hub's Prometheus metrics: one row per counter the doors, limits and
 * services keep (docs/security.md lists which limit feeds which metric).
 */
import type { Registry as PromRegistry } from 'prom-client';
import { createMetrics, type MetricSources, type Sample } from './metrics.js';
import type { BrowserDoor } from './transports/browser/door.js';
import type { DeviceDoor } from './transports/device/door.js';
import type { MqttDoor } from './transports/mqtt-door.js';
import type { Registry } from './services/registry.js';
import type { Security } from './auth/index.js';
import type { RevocationWatch } from './auth/revocation.js';
import type { Fanout } from './transports/browser/fanout.js';
import type { SessionOwners } from './auth/mqtt-policy.js';
import type { RetainedBudget } from './auth/retained-budget.js';
import type { MqttStateStats } from './storage/index.js';

export interface MetricDeps {
  browser: BrowserDoor;
  device: DeviceDoor;
  /** The MQTT door of the embedded bus, when there is one (its clients and engine counters are counted). */
  mqtt: MqttDoor | undefined;
  registry: Registry;
  security: Security;
  fanout?: Fanout;
  ingestStats?: () => unknown;
  /** The core engine's durable state (storage/mqtt-state.ts), when the hub has a store. */
  mqttStateStats?: () => Readonly<Record<keyof MqttStateStats, number>>;
  revocations?: RevocationWatch | undefined;
  /** The embedded broker's client-id/session owners and retained budget. */
  mqttPolicy?: { sessions: SessionOwners; retained: RetainedBudget };
  alertsStats?: () => Record<string, unknown>;
  /** The link's metrics (link/metrics.ts). */
  link?: MetricSources;
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
    fieldlink_auth_checks_total: {
      help: 'Secrets actually checked, by hash (unknown names are checked against a dummy of the same kind)',
      read: () => {
        const c = d.security.authenticator.counters;
        return [[{ hash: 'sha256' }, c.sha256Checks], [{ hash: 'scrypt' }, c.scryptChecks]];
      },
    },
    fieldlink_auth_checks_in_flight: { help: 'Password checks running now (--auth-checks-in-flight, --auth-checks-per-ip)', read: () => one(d.security.authenticator.guard.slots.count) },
    fieldlink_auth_refused_total: {
      help: 'Attempts answered RATE_LIMITED without a check, by the limit that refused them',
      read: () => {
        const a = d.security.authenticator;
        return [[{ limit: 'guessing' }, a.counters.rateLimited - a.guard.slots.rejected - a.guard.queueRefused], [{ limit: 'checks_in_flight' }, a.guard.slots.rejected], [{ limit: 'queue' }, a.guard.queueRefused]];
      },
    },
    fieldlink_auth_failures_total: { help: 'Failed and refused authentications reported by the doors, by door and code', read: () => perDoor(d.security.authFailures.counts, 'code') },
    fieldlink_auth_log_folded_total: { help: 'Failed authentications counted into a summary line instead of a line of their own', read: () => one(d.security.authFailures.folded) },
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
    fieldlink_live_connections: { help: 'Authenticated connections in the revocation registry (bounded by --max-connections)', read: () => one(d.security.live.size) },
    fieldlink_revoked_connections_total: {
      help: 'Connections closed because their credentials ended (reason revoked, expired, logged_out), by door; registry_full: refused',
      read: () => [...perDoor(d.security.live.closed, 'reason'), [{ door: 'any', reason: 'registry_full' }, d.security.live.refused]],
    },
    fieldlink_sessions: { help: 'Dashboard login sessions held (at most 10,000)', read: () => one(d.security.sessions.size) },
    fieldlink_sessions_ended_total: {
      help: 'Dashboard sessions ended, by reason (expired: idle or past --session-max-age-ms; revoked; evicted: over the bound; logged_out)',
      read: () => {
        const c = d.security.sessions.counters;
        return [[{ reason: 'expired' }, c.expired], [{ reason: 'revoked' }, c.revoked], [{ reason: 'evicted' }, c.evicted], [{ reason: 'logged_out' }, c.loggedOut]];
      },
    },
    fieldlink_identity_events_total: { help: 'Identity changes read from the store\'s change log (revocations applied)', read: () => one(d.revocations?.stats.events ?? 0) },
    fieldlink_identity_log_errors_total: { help: 'Failed reads of the identity change log (revocations wait until it answers)', read: () => one(d.revocations?.stats.pollErrors ?? 0) },
    fieldlink_payload_refused_total: {
      help: 'Publishes refused by the payload shape bounds (--max-payload-depth, --max-payload-keys, --max-meta-bytes), by door and reason',
      read: () => perDoor(d.security.shapes.refused, 'reason'),
    },
    fieldlink_registry_refused_total: {
      help: 'What the device registry did not keep, by reason (shape bounds, --max-devices, --max-metrics-per-device, readings cut or not kept)',
      read: () => {
        const rows = Object.entries(d.registry.refused()).map(([reason, v]): Sample => [{ reason }, v]);
        return rows.length ? rows : [[{ reason: 'none' }, 0]];
      },
    },
    fieldlink_log_suppressed_total: { help: 'Repeated log lines counted into summaries instead of written (--log-summary-ms)', read: () => one(d.security.logs.suppressed) },
    fieldlink_ws_lingering_filters: { help: 'Unsubscribed browser filters kept on the bus for resumes (--max-lingering-filters)', read: () => one(d.fanout?.lingering ?? 0) },
    fieldlink_ws_linger_evicted_total: { help: 'Lingering browser filters dropped early by --max-lingering-filters / --max-lingering-per-client', read: () => one(d.fanout?.lingerEvicted ?? 0) },
    fieldlink_mqtt_client_id_refused_total: {
      help: 'MQTT CONNECTs refused for their client id, by reason (not_device_id, reserved, session_owned, too_many_sessions)',
      read: () => Object.entries(d.mqttPolicy?.sessions.refused ?? { none: 0 }).map(([reason, v]): Sample => [{ reason }, v]),
    },
    fieldlink_retained_refused_total: {
      help: 'Retained messages refused by the retained limits, by reason (owner_bytes, owner_topics, total_bytes, total_topics)',
      read: () => Object.entries(d.mqttPolicy?.retained.refused ?? { none: 0 }).map(([reason, v]): Sample => [{ reason }, v]),
    },
    fieldlink_retained_bytes: { help: 'Retained bytes held by the embedded broker (as the retained limits count them)', read: () => one(d.mqttPolicy?.retained.bytes ?? 0) },
    fieldlink_retained_topics: { help: 'Retained topics held by the embedded broker', read: () => one(d.mqttPolicy?.retained.topics ?? 0) },
    fieldlink_alerts: {
      help: 'Alerts service counters (rules, series, firing, evaluations, fired, resolved, writes, writesDropped, seriesDropped, timers); webhook counters are in fieldlink_alert_webhooks',
      read: () => {
        const s = d.alertsStats?.();
        if (!s) return [[{ counter: 'rules' }, 0]];
        return Object.entries(s).filter(([, v]) => typeof v === 'number').map(([k, v]): Sample => [{ counter: k }, v as number]);
      },
    },
    fieldlink_alert_webhooks: {
      help: 'Webhook deliveries by receiver (url without credentials) and counter: queued, delivered, retries, failed, dropped (queue full, oldest dropped)',
      read: () => {
        const hooks = (d.alertsStats?.().webhooks ?? []) as Record<string, unknown>[];
        const out: Sample[] = hooks.flatMap((h) => Object.entries(h).filter(([, v]) => typeof v === 'number').map(([k, v]): Sample => [{ url: String(h.url), counter: k }, v as number]));
        return out.length ? out : [[{ url: '', counter: 'delivered' }, 0]];
      },
    },
    fieldlink_mqtt_engine_total: {
      help: 'Counters of the MQTT engine (--mqtt-engine core): malformed packets, refusals, queue drops, by counter (docs/mqtt.md)',
      read: () => {
        const rows = Object.entries(d.mqtt?.counters() ?? {}).map(([k, v]): Sample => [{ counter: k }, v]);
        return rows.length ? rows : [[{ counter: 'none' }, 0]];
      },
    },
    fieldlink_mqtt_state: {
      help: 'The MQTT engine\'s durable state (sessions, retained, queues) in the store: pending rows, committed rows, commits, commitFailures, dropped (buffer full; docs/storage.md)',
      read: () => Object.entries(d.mqttStateStats?.() ?? { pending: 0 }).map(([k, v]): Sample => [{ counter: k }, v]),
    },
    fieldlink_ingest: {
      help: 'Ingest service counters (queued, written, dropped, rejected, batches, retries)',
      read: () => {
        const s = d.ingestStats?.() as Record<string, unknown> | undefined;
        if (!s) return [[{ counter: 'written' }, 0]];
        return Object.entries(s).filter(([, v]) => typeof v === 'number').map(([k, v]): Sample => [{ counter: k }, v as number]);
      },
    },
    ...d.link,
  });
}
