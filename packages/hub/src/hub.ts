/**
 * The hub process: one HTTP server (dashboard, HTTP API, WebSocket doors routed
 * by path), the MQTT TCP listener, the bus and the services. `startHub` resolves
 * once every listener is bound; `stop` is the graceful shutdown of design.md:
 * stop accepting, tell WebSocket clients (1001), flush the store, close.
 */
import http from 'node:http';
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { CloseCodes, PROTOCOL_VERSION } from '@fieldlink/protocol';
import { createBus, type EmbeddedBus } from './bus/index.js';
import { openStore, startRetention, type Store } from './storage/index.js';
import type { HubConfig } from './config/options.js';
import { ConfigError } from './config/schema.js';
import { createLogger, type Logger } from './log.js';
import { startRegistry, type Registry } from './services/registry.js';
import { startCommands, type Commands } from './services/commands.js';
import { Fanout } from './transports/browser/fanout.js';
import { createBrowserDoor } from './transports/browser/door.js';
import { createDeviceDoor } from './transports/device/door.js';
import { createMqttTcpServer, createMqttWsHandler } from './transports/mqtt.js';
import { createHttpHandler } from './http/routes.js';
import { startServices, type Services } from './services/index.js';
import { VERSION } from './version.js';

export interface Hub {
  readonly httpPort: number;
  /** The bound MQTT/TCP port, or -1 when MQTT over TCP is disabled (--mqtt-port 0). */
  readonly mqttPort: number;
  readonly url: string;
  readonly bus: EmbeddedBus;
  readonly store: Store | undefined;
  readonly registry: Registry;
  readonly log: Logger;
  stop(): Promise<void>;
}

type Upgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;

function listen(server: net.Server | http.Server, port: number, host: string, option: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new ConfigError(`port ${port} on ${host} is already in use: choose another with ${option}`));
      else if (err.code === 'EACCES') reject(new ConfigError(`no permission to listen on ${host}:${port}: choose a port above 1023 with ${option}`));
      else if (err.code === 'EADDRNOTAVAIL') reject(new ConfigError(`address ${host} is not available on this machine (--host)`));
      else reject(err);
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export async function startHub(cfg: HubConfig, log: Logger = createLogger(cfg.logLevel)): Promise<Hub> {
  const started = Date.now();
  // Security default (design.md): loopback only unless the operator says otherwise, loudly.
  const exposed = !LOOPBACK.test(cfg.host);
  if (exposed && !cfg.allowAnonymous) {
    throw new ConfigError(`--host ${cfg.host} would expose the hub without authentication: keep --host 127.0.0.1, or add --allow-anonymous if this network is trusted`);
  }
  const warnings = exposed ? [`listening on ${cfg.host} with anonymous access: anyone who reaches these ports can read and publish everything`] : [];
  for (const w of warnings) log.warn(w);
  const bus = await createBus({ kind: 'embedded' });
  const store = cfg.store === 'none' ? undefined : await openStore({ url: cfg.store === 'sqlite' ? undefined : cfg.store, dataDir: cfg.dataDir });
  const registry = await startRegistry(bus, store, (err) => log.warn({ err }, 'registry snapshot failed'));
  const commands: Commands = await startCommands(bus, registry);
  const services: Services = await startServices(bus, store, registry, cfg, log);
  const retention = store ? startRetention(store, { rawDays: cfg.retentionDays, rollupDays: cfg.rollupRetentionDays }) : undefined;
  const fanout = new Fanout(bus, { ringSize: cfg.resumeBuffer, lingerMs: 30_000 });

  const hubInfo = () => ({ hub: 'fieldlink', version: VERSION, protocol: PROTOCOL_VERSION, epoch: fanout.epoch, user: null });
  const browser = createBrowserDoor(
    { bus, fanout, registry, commands, history: services.history, hubInfo, log, defaultCallTimeoutMs: cfg.callTimeoutMs },
    { maxFrameBytes: cfg.maxFrameBytes, softLimitBytes: cfg.wsSoftLimitBytes, hardLimitBytes: cfg.wsHardLimitBytes, maxSubscriptions: cfg.maxSubscriptions },
  );
  const device = createDeviceDoor(bus, log, { maxFrameBytes: cfg.maxFrameBytes });
  const mqttWs = createMqttWsHandler(bus.broker, cfg.mqttMaxPacketBytes);
  const upgrades: Record<string, Upgrade> = {
    '/ws': (req, s, h) => browser.handleUpgrade(req, s, h),
    '/ws/device': (req, s, h) => device.handleUpgrade(req, s, h),
    '/mqtt': (req, s, h) => mqttWs.handleUpgrade(req, s, h),
  };

  const health = () => ({
    status: 'ok',
    ...(warnings.length ? { warnings } : {}),
    version: VERSION,
    uptimeSec: Math.round((Date.now() - started) / 1000),
    epoch: fanout.epoch,
    connections: { browsers: browser.sessions.size, devices: device.connected, mqtt: bus.broker.connectedClients },
    devices: { known: registry.list().length, online: registry.list().filter((d) => d.online).length },
    bus: { kind: bus.kind, browserFilters: fanout.filterCount },
    store: store ? { kind: store.kind, ingest: services.ingestStats?.() } : null,
  });
  const server = http.createServer(createHttpHandler({ health, api: services.api, dashboardDir: cfg.dashboardDir, log }));
  server.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const route = upgrades[path];
    if (!route) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    route(req, socket, head);
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  const mqttTcp = cfg.mqttPort !== 0 ? createMqttTcpServer(bus.broker) : undefined;
  let httpPort: number;
  let mqttPort = -1;
  try {
    httpPort = await listen(server, cfg.port, cfg.host, '--port');
    if (mqttTcp) mqttPort = await listen(mqttTcp, Math.max(0, cfg.mqttPort), cfg.host, '--mqtt-port');
  } catch (err) {
    server.close();
    await Promise.allSettled([services.stop(), registry.stop(), commands.stop(), bus.close()]);
    await store?.close();
    throw err;
  }
  const shownHost = cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host;
  const url = `http://${shownHost}:${httpPort}`;
  log.info({ url, mqttPort, store: store?.kind ?? 'none', version: VERSION }, 'hub listening');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      log.info('hub stopping');
      server.close();
      mqttTcp?.close();
      await Promise.allSettled([
        browser.close(CloseCodes.GOING_AWAY.code, 'hub shutting down'),
        device.close(CloseCodes.GOING_AWAY.code, 'hub shutting down'),
        mqttWs.close(),
      ]);
      await retention?.stop();
      await commands.stop();
      await fanout.close();
      await registry.stop();
      await services.stop();
      await bus.close();
      await store?.close();
      server.closeAllConnections();
      log.info('hub stopped');
    })());

  return { httpPort, mqttPort, url, bus, store, registry, log, stop };
}
