/**
 * The store-backed services, started together: ingest (bus → store), history
 * queries (shared by the WebSocket `history` op and the HTTP API), alerts and
 * the HTTP API itself. Without a store they are absent and the doors answer
 * STORE_UNAVAILABLE.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Bus } from '../bus/types.js';
import type { Store } from '../storage/types.js';
import type { HubConfig } from '../config/options.js';
import type { Logger } from '../log.js';
import type { HistoryOutcome } from '../transports/browser/context.js';
import type { Registry } from './registry.js';
import { startIngest } from './ingest.js';
import { parseHistoryParams, runHistory } from './history.js';
import { createApiHandler } from '../http/api.js';
import type { Identity, Security } from '../auth/index.js';
import type { AlertStore } from '../storage/alerts.js';
import { startAlerts, type AlertsService } from './alerts/index.js';
import { alertAccess, type AlertAccess } from './alerts/access.js';
import { alertsHandler } from '../http/alerts-api.js';

export interface Services {
  history?: (params: Record<string, unknown>) => Promise<HistoryOutcome>;
  /** The HTTP API as one identity sees it: devices it may not read are absent. */
  api?: (who: Identity) => (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
  ingestStats?: () => unknown;
  /** Resolves when every telemetry point accepted before the call is committed (browser resume rebuilds). */
  flushIngest?: () => Promise<void>;
  /** Alert rules and their lifecycle (services/alerts/); needs a store. */
  alerts?: AlertsService;
  alertAccess?: AlertAccess;
  stop(): Promise<void>;
}

export async function startServices(bus: Bus, store: Store | undefined, registry: Registry, security: Security, cfg: HubConfig, log: Logger, alertStore?: AlertStore): Promise<Services> {
  if (!store) return { stop: async () => undefined };
  const ingest = await startIngest(bus, store, {
    batchMs: cfg.ingestBatchMs,
    batchMaxPoints: cfg.ingestBatchPoints,
    queueMaxPoints: cfg.ingestQueuePoints,
    shape: { maxDepth: cfg.maxPayloadDepth, maxKeys: cfg.maxPayloadKeys, maxMetaBytes: cfg.maxMetaBytes },
    maxMetricsPerDevice: cfg.maxMetricsPerDevice,
    maxDevices: cfg.maxDevices,
    onError: (err: unknown) => log.warn({ err }, 'ingest batch failed; retrying'),
  });
  const history = async (params: Record<string, unknown>): Promise<HistoryOutcome> => {
    const parsed = parseHistoryParams(params, cfg.historyMaxLimit);
    if (!parsed.ok) return parsed;
    return { ok: true, result: await runHistory(store, parsed.query) };
  };
  const readable = (who: Identity, id: string) => security.acl.can(who, 'read', `devices/${id}/telemetry`);
  let alerts: AlertsService | undefined;
  try {
    alerts = alertStore ? await startAlerts({ bus, store: alertStore, known: registry.list().map((d) => d.id), file: cfg.alertsFile, log }) : undefined;
  } catch (err) {
    await ingest.stop();
    throw err;
  }
  const access = alerts ? alertAccess(alerts, security) : undefined;
  const api = (who: Identity) => {
    const rest = createApiHandler({
      store,
      devices: async () => registry.list().filter((d) => readable(who, d.id)),
      device: async (id: string) => (readable(who, id) ? registry.get(id) : undefined),
      mayRead: (id: string) => security.allow(who, 'read', `devices/${id}/telemetry`, 'http'),
      maxLimit: cfg.historyMaxLimit,
    });
    if (!access) return rest;
    const own = alertsHandler(access, security, who);
    return async (req: IncomingMessage, res: ServerResponse) => (await own(req, res)) || rest(req, res);
  };
  return {
    history,
    api,
    ingestStats: () => ingest.stats(),
    flushIngest: () => ingest.flush(),
    ...(alerts ? { alerts, alertAccess: access } : {}),
    async stop() {
      await alerts?.stop();
      await ingest.stop();
    },
  };
}
