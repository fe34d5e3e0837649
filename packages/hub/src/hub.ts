/**
 * The hub process: one HTTP(S) server (dashboard, HTTP API, WebSocket doors
 * routed by path), the MQTT TCP and TLS listeners, the bus, security and the
 * services. With an external bus (`--bus`), the broker serves MQTT: the hub has
 * no MQTT listener and no `/mqtt` door. `startHub` resolves once every listener
 * is bound; `stop` is the graceful shutdown of design.md: stop accepting, tell
 * WebSocket clients (1001), flush the store, close.
 */
import type net from 'node:net';
import type tls from 'node:tls';
import { CloseCodes, PROTOCOL_VERSION } from '@fieldlink/protocol';
import { createBus, isEmbedded, type Bus } from './bus/index.js';
import { openAlerts, openIdentities, openLinkStore, openResumeMarks, openStore, startRetention, type AlertStore, type ClosableIdentityStore, type Durability, type MqttStateStore, type Store } from './storage/index.js';
import { AEDES_REMOVED_IN, type HubConfig } from './config/options.js';
import { createLogger, type Logger } from './log.js';
import { anonymousRole, createSecurity, isLoopback, proxiedAnonymousRole, type Security } from './auth/index.js';
import { startRevocationWatch, type RevocationWatch } from './auth/revocation.js';
import { startRegistry, type Registry } from './services/registry.js';
import { startCommands } from './services/commands.js';
import { startServices } from './services/index.js';
import { startHaDiscovery } from './services/ha-discovery.js';
import type { AlertsService } from './services/alerts/index.js';
import { Fanout } from './transports/browser/fanout.js';
import { markTelemetry } from './transports/browser/rebuild.js';
import { createBrowserDoor } from './transports/browser/door.js';
import { createDeviceDoor } from './transports/device/door.js';
import { createMqttTcpServer, createMqttTlsServer, createMqttWsHandler } from './transports/mqtt.js';
import { SessionOwners } from './auth/mqtt-policy.js';
import { RetainedBudget } from './auth/retained-budget.js';
import { corePolicy } from './transports/mqtt-core-policy.js';
import type { EngineLink } from './transports/mqtt-core-security.js';
import { embeddedBusOptions, openMqttDoor } from './transports/mqtt-door.js';
import { createHttpHandler } from './http/routes.js';
import { createHttpServer, listen } from './http/server.js';
import { hubMetrics } from './hub-metrics.js';
import { loadTls } from './tls.js';
import { VERSION } from './version.js';
import { redactUrl } from './redact.js';
import { openLink, type Link } from './link/index.js';
import { linkMetricSources } from './link/metrics.js';

export interface Hub {
  readonly httpPort: number;
  /** The bound MQTT/TCP port, or -1 when MQTT over TCP is disabled (--mqtt-port 0). */
  readonly mqttPort: number;
  /** The bound MQTTS port, or -1 without TLS. */
  readonly mqttsPort: number;
  readonly url: string;
  readonly bus: Bus;
  readonly store: Store | undefined;
  readonly registry: Registry;
  readonly security: Security;
  /** Follows the store's identity change log; undefined without a store. */
  readonly revocations: RevocationWatch | undefined;
  readonly log: Logger;
  /** Re-read the TLS files (SIGHUP). */
  reloadTls(): void;
  /** Re-read --alerts-file (SIGHUP); throws, keeping the running rules, when it does not validate. */
  reloadAlerts(): void;
  /** Alerts service (absent without a store). */
  readonly alerts: AlertsService | undefined;
  /** The hub-to-hub link (link/index.ts): central for sites with a token, and a site with --link-url. */
  readonly link: Link;
  stop(): Promise<void>;
}

export async function startHub(cfg: HubConfig, log: Logger = createLogger(cfg.logLevel)): Promise<Hub> {
  const started = Date.now();
  const tlsMaterial = loadTls(cfg);
  const storeOpts = { url: cfg.store === 'sqlite' ? undefined : cfg.store, dataDir: cfg.dataDir, durability: cfg.durability as Durability };
  const store = cfg.store === 'none' ? undefined : await openStore(storeOpts);
  const ids: ClosableIdentityStore | undefined = store ? openIdentities(storeOpts) : undefined;
  const alertStore: AlertStore | undefined = store ? openAlerts(storeOpts) : undefined;
  const linkStore = store ? openLinkStore(storeOpts) : undefined;
  const resumeMarks = store ? openResumeMarks(storeOpts) : undefined;
  /** Identities, alerts, the link and resume marks first: their connections read the store's database. */
  const closeStorage = async () => {
    await linkStore?.close();
    await resumeMarks?.close();
    await alertStore?.close();
    await ids?.close();
    await store?.close();
  };
  let anon;
  try {
    anon = await anonymousRole(cfg, ids);
  } catch (err) {
    await closeStorage();
    throw err;
  }
  const warnings = !isLoopback(cfg.host) && anon ? [`listening on ${cfg.host} with anonymous ${anon} access: anyone who reaches these ports can act as ${anon}`] : [];
  for (const w of warnings) log.warn(w);
  if (!cfg.bus && cfg.mqttEngine === 'aedes') log.warn(`--mqtt-engine aedes is deprecated (MQTT 3.1.1 only) and removed in ${AEDES_REMOVED_IN}: the default engine \`core\` speaks 3.1.1 and 5.0 (docs/mqtt.md)`);
  if (cfg.trustedProxies.length && !proxiedAnonymousRole(cfg, anon) && !(await ids?.hasAny())) {
    log.warn('--trusted-proxies is set but no identities exist: clients through the proxy get no anonymous access and cannot log in yet (fieldlink user add, token create, device add)');
  }
  const security = createSecurity(cfg, ids, anon, log);
  // Before any door opens: connections authenticate against the log's current position.
  let revocations: RevocationWatch | undefined;
  try {
    revocations = ids ? await startRevocationWatch(ids, security.live, security.sessions, log, { pollMs: cfg.revocationPollMs }) : undefined;
  } catch (err) {
    await closeStorage();
    throw err;
  }

  // The MQTT policy beyond the access rules (auth/mqtt-policy.ts): one per hub, whichever engine runs it.
  const mqttPolicy = {
    owners: new SessionOwners(cfg.mqttSessionsPerIdentity),
    retained: new RetainedBudget({ perOwnerBytes: cfg.retainedMaxBytesPerClient, perOwnerTopics: cfg.retainedMaxTopicsPerClient, totalBytes: cfg.retainedMaxBytes, totalTopics: cfg.retainedMaxTopics }),
    isRegisteredDevice: async (id: string) => Boolean(ids && (await ids.getDevice(id))),
  };
  /** Filled by openMqttDoor for the core engine: how the hooks end a connection (revocation). */
  const engineRef: EngineLink = {};
  let bus: Bus;
  /** The core engine's sessions, retained messages, queues and deadlines, in the store (storage/mqtt-state.ts); restored by createBus. */
  let mqttState: MqttStateStore | undefined;
  try {
    const embedded = cfg.bus ? undefined : embeddedBusOptions(cfg, security, log, corePolicy(mqttPolicy, security), engineRef);
    if (embedded && embedded.engine === 'core' && store) embedded.store = mqttState = store.mqttState({ maxPending: cfg.mqttStateMaxPending });
    bus = await createBus(embedded ?? { kind: 'external', url: cfg.bus });
  } catch (err) {
    await revocations?.stop();
    await closeStorage();
    throw err;
  }
  const door = isEmbedded(bus) ? openMqttDoor(bus, { security, log, tlsClientAuth: cfg.tlsClientAuth, maxPacketBytes: cfg.mqttMaxPacketBytes, policy: mqttPolicy, engineRef, sysIntervalSec: cfg.mqttSysIntervalSec }) : undefined;
  const registry = await startRegistry(bus, store, (err) => log.warn({ err }, 'registry snapshot failed'), {
    maxDepth: cfg.maxPayloadDepth, maxKeys: cfg.maxPayloadKeys, maxMetaBytes: cfg.maxMetaBytes, maxDevices: cfg.maxDevices, maxMetricsPerDevice: cfg.maxMetricsPerDevice,
  });
  let link: Link;
  try {
    link = await openLink(cfg, store, linkStore, bus, log);
  } catch (err) {
    await Promise.allSettled([registry.stop(), bus.close(), revocations?.stop()]);
    await closeStorage();
    throw err;
  }
  const commands = await startCommands(bus, registry, (...a) => link.gate(...a));
  let services;
  try {
    // link.store: on a site, telemetry appends also write the outbox (link/linked-store.ts).
    services = await startServices(bus, link.store, registry, security, cfg, log, alertStore);
  } catch (err) {
    await Promise.allSettled([registry.stop(), commands.stop(), link.stop(), bus.close()]);
    await closeStorage();
    throw err;
  }
  const ha = cfg.haDiscovery ? await startHaDiscovery(bus, cfg.haDiscoveryPrefix, log) : undefined;
  const retention = store ? startRetention(store, { rawDays: cfg.retentionDays, rollupDays: cfg.rollupRetentionDays }) : undefined;
  const fanout = new Fanout(bus, {
    ringSize: cfg.resumeBuffer, lingerMs: cfg.resumeLingerMs, maxLingering: cfg.maxLingeringFilters, maxLingeringPerOwner: cfg.maxLingeringPerClient,
    ...(resumeMarks ? { onSeq: markTelemetry(resumeMarks) } : {}),
  });
  await resumeMarks?.begin(fanout.epoch, Date.now());
  const resume = resumeMarks && store && services.flushIngest ? { marks: resumeMarks, store, flushIngest: services.flushIngest } : undefined;

  const hubInfo = () => ({ hub: 'fieldlink', version: VERSION, protocol: PROTOCOL_VERSION, epoch: fanout.epoch });
  const browser = createBrowserDoor(
    { bus, fanout, registry, commands, history: services.history, alerts: services.alertAccess, ...(resume ? { resume } : {}), hubInfo, log, defaultCallTimeoutMs: cfg.callTimeoutMs, security },
    { maxFrameBytes: cfg.maxFrameBytes, softLimitBytes: cfg.wsSoftLimitBytes, hardLimitBytes: cfg.wsHardLimitBytes, stallTimeoutMs: cfg.wsStallTimeoutMs, maxSubscriptions: cfg.maxSubscriptions },
  );
  const device = createDeviceDoor(bus, log, { maxFrameBytes: cfg.maxFrameBytes }, security);
  const mqttWs = door ? createMqttWsHandler(door, cfg.mqttMaxPacketBytes) : undefined;

  const health = () => ({
    status: 'ok',
    ...(warnings.length ? { warnings } : {}),
    version: VERSION,
    uptimeSec: Math.round((Date.now() - started) / 1000),
    epoch: fanout.epoch,
    connections: { browsers: browser.sessions.size, devices: device.connected, mqtt: door?.connectedClients ?? 0, total: security.connections.count },
    devices: { known: registry.list().length, online: registry.list().filter((d) => d.online).length },
    bus: { kind: bus.kind, ...(door ? { mqttEngine: door.engine } : {}), browserFilters: fanout.filterCount },
    store: store ? { kind: store.kind, ingest: services.ingestStats?.() } : null,
    // Webhook URLs are for /metrics (needs read on #), not for this unauthenticated page: only their count here.
    ...(services.alerts ? { alerts: { ...services.alerts.stats(), webhooks: (services.alerts.stats().webhooks as unknown[]).length } } : {}),
    security: { anonymous: anon, anonymousThroughProxy: proxiedAnonymousRole(cfg, anon), trustedProxies: cfg.trustedProxies.length, tls: Boolean(tlsMaterial) },
  });
  const metrics = hubMetrics({
    browser, device, mqtt: door, registry, security, fanout, ingestStats: services.ingestStats, revocations, ...(mqttState ? { mqttStateStats: () => mqttState.stats() } : {}),
    ...(door ? { mqttPolicy: { sessions: mqttPolicy.owners, retained: mqttPolicy.retained } } : {}),
    ...(services.alerts ? { alertsStats: services.alerts.stats } : {}),
    link: linkMetricSources(link),
  });
  const handler = createHttpHandler({ health, api: services.api, metrics, links: () => link.report(), security, secureCookies: Boolean(tlsMaterial), dashboardDir: cfg.dashboardDir, log });
  const server = createHttpServer(
    handler,
    {
      '/ws': (req, s, h) => browser.handleUpgrade(req, s, h),
      '/ws/device': (req, s, h) => device.handleUpgrade(req, s, h),
      ...(mqttWs ? { '/mqtt': (req, s, h) => mqttWs.handleUpgrade(req, s, h) } : {}),
      ...(link.central ? { '/link': (req, s, h) => link.central!.handleUpgrade(req, s, h) } : {}),
    },
    security,
    log,
    tlsMaterial?.options('https'),
  );
  const mqttTcp = door && cfg.mqttPort !== 0 ? createMqttTcpServer(door, security.connections) : undefined;
  const mqttTls = door && tlsMaterial && cfg.mqttsPort !== 0 ? createMqttTlsServer(door, security.connections, tlsMaterial.options('mqtts')) : undefined;
  if (!door) log.info({ bus: redactUrl(cfg.bus) }, 'external bus: devices connect to its broker; the hub serves no MQTT door');

  const listeners: net.Server[] = [server];
  let httpPort: number;
  let mqttPort = -1;
  let mqttsPort = -1;
  try {
    httpPort = await listen(server, cfg.port, cfg.host, '--port');
    if (mqttTcp) {
      listeners.push(mqttTcp);
      mqttPort = await listen(mqttTcp, Math.max(0, cfg.mqttPort), cfg.host, '--mqtt-port');
    }
    if (mqttTls) {
      listeners.push(mqttTls);
      mqttsPort = await listen(mqttTls, Math.max(0, cfg.mqttsPort), cfg.host, '--mqtts-port');
    }
  } catch (err) {
    for (const l of listeners) l.close();
    await Promise.allSettled([services.stop(), registry.stop(), commands.stop(), link.stop(), bus.close(), revocations?.stop()]);
    await closeStorage();
    throw err;
  }
  const shownHost = cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host;
  const url = `${tlsMaterial ? 'https' : 'http'}://${shownHost}:${httpPort}`;
  await link.start();
  log.info({ url, mqttPort, mqttsPort, bus: bus.kind, mqttEngine: door?.engine, store: store?.kind ?? 'none', anonymous: anon, version: VERSION }, 'hub listening');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      log.info('hub stopping');
      for (const l of listeners) l.close();
      await Promise.allSettled([
        browser.close(CloseCodes.GOING_AWAY.code, 'hub shutting down'),
        device.close(CloseCodes.GOING_AWAY.code, 'hub shutting down'),
        mqttWs?.close(),
      ]);
      await link.stop();
      await retention?.stop();
      await ha?.stop();
      await commands.stop();
      door?.close();
      await fanout.close();
      await registry.stop();
      await services.stop();
      await bus.close();
      await revocations?.stop();
      await closeStorage();
      server.closeAllConnections();
      security.logs.close();
      log.info('hub stopped');
    })());

  const reloadTls = () => {
    if (!tlsMaterial) return;
    tlsMaterial.reload({ https: server as unknown as tls.Server, ...(mqttTls ? { mqtts: mqttTls } : {}) });
    log.info('TLS certificates reloaded');
  };
  const reloadAlerts = () => services.alerts?.reload();
  return { httpPort, mqttPort, mqttsPort, url, bus, store, registry, security, revocations, log, reloadTls, reloadAlerts, alerts: services.alerts, link, stop };
}
