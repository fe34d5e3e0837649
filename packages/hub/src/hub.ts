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
import { openIdentities, openStore, startRetention, type ClosableIdentityStore, type Store } from './storage/index.js';
import type { HubConfig } from './config/options.js';
import { createLogger, type Logger } from './log.js';
import { anonymousRole, createSecurity, isLoopback, type Security } from './auth/index.js';
import { startRegistry, type Registry } from './services/registry.js';
import { startCommands } from './services/commands.js';
import { startServices } from './services/index.js';
import { Fanout } from './transports/browser/fanout.js';
import { createBrowserDoor } from './transports/browser/door.js';
import { createDeviceDoor } from './transports/device/door.js';
import { createMqttTcpServer, createMqttTlsServer, createMqttWsHandler } from './transports/mqtt.js';
import { embeddedBusOptions, openMqttDoor } from './transports/mqtt-door.js';
import { createHttpHandler } from './http/routes.js';
import { createHttpServer, listen } from './http/server.js';
import { hubMetrics } from './hub-metrics.js';
import { loadTls } from './tls.js';
import { VERSION } from './version.js';
import { redactUrl } from './redact.js';

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
  readonly log: Logger;
  /** Re-read the TLS files (SIGHUP). */
  reloadTls(): void;
  stop(): Promise<void>;
}

export async function startHub(cfg: HubConfig, log: Logger = createLogger(cfg.logLevel)): Promise<Hub> {
  const started = Date.now();
  const tlsMaterial = loadTls(cfg);
  const storeOpts = { url: cfg.store === 'sqlite' ? undefined : cfg.store, dataDir: cfg.dataDir };
  const store = cfg.store === 'none' ? undefined : await openStore(storeOpts);
  const ids: ClosableIdentityStore | undefined = store ? openIdentities(storeOpts) : undefined;
  /** Identities first: their connection reads the store's database. */
  const closeStorage = async () => {
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
  const security = createSecurity(cfg, ids, anon, log);

  let bus: Bus;
  try {
    bus = await createBus(cfg.bus ? { kind: 'external', url: cfg.bus } : embeddedBusOptions(cfg, security, log));
  } catch (err) {
    await closeStorage();
    throw err;
  }
  const door = isEmbedded(bus) ? openMqttDoor(bus, { security, log, tlsClientAuth: cfg.tlsClientAuth, maxPacketBytes: cfg.mqttMaxPacketBytes }) : undefined;
  const registry = await startRegistry(bus, store, (err) => log.warn({ err }, 'registry snapshot failed'));
  const commands = await startCommands(bus, registry);
  const services = await startServices(bus, store, registry, security, cfg, log);
  const retention = store ? startRetention(store, { rawDays: cfg.retentionDays, rollupDays: cfg.rollupRetentionDays }) : undefined;
  const fanout = new Fanout(bus, { ringSize: cfg.resumeBuffer, lingerMs: 30_000 });

  const hubInfo = () => ({ hub: 'fieldlink', version: VERSION, protocol: PROTOCOL_VERSION, epoch: fanout.epoch });
  const browser = createBrowserDoor(
    { bus, fanout, registry, commands, history: services.history, hubInfo, log, defaultCallTimeoutMs: cfg.callTimeoutMs, security },
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
    security: { anonymous: anon, tls: Boolean(tlsMaterial) },
  });
  const metrics = hubMetrics({ browser, device, mqtt: door, registry, security, ingestStats: services.ingestStats });
  const handler = createHttpHandler({ health, api: services.api, metrics, security, secureCookies: Boolean(tlsMaterial), dashboardDir: cfg.dashboardDir, log });
  const server = createHttpServer(
    handler,
    {
      '/ws': (req, s, h) => browser.handleUpgrade(req, s, h),
      '/ws/device': (req, s, h) => device.handleUpgrade(req, s, h),
      ...(mqttWs ? { '/mqtt': (req, s, h) => mqttWs.handleUpgrade(req, s, h) } : {}),
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
    await Promise.allSettled([services.stop(), registry.stop(), commands.stop(), bus.close()]);
    await closeStorage();
    throw err;
  }
  const shownHost = cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host;
  const url = `${tlsMaterial ? 'https' : 'http'}://${shownHost}:${httpPort}`;
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
      await retention?.stop();
      await commands.stop();
      await fanout.close();
      await registry.stop();
      await services.stop();
      await bus.close();
      await closeStorage();
      server.closeAllConnections();
      log.info('hub stopped');
    })());

  const reloadTls = () => {
    if (!tlsMaterial) return;
    tlsMaterial.reload({ https: server as unknown as tls.Server, ...(mqttTls ? { mqtts: mqttTls } : {}) });
    log.info('TLS certificates reloaded');
  };
  return { httpPort, mqttPort, mqttsPort, url, bus, store, registry, security, log, reloadTls, stop };
}
