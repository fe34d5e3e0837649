/**
 * Fieldlink's MQTT engine alone (packages/mqtt), without the hub: default
 * limits, trivial hooks (everyone may connect, publish and subscribe), no store
 * beyond the engine's in-memory default. MQTT/TCP on a plain `net` server and
 * MQTT over WebSocket through the hub's own /mqtt adapter (transports/mqtt.ts),
 * so the bench can tell the engine's cost from the hub's (its Security hooks,
 * services on the bus). Prints `{"ready":true,"mqttPort":…,"wsPort":…}`; exits
 * on SIGINT/SIGTERM (gracefully, so `--cpu-prof` writes its profile).
 */
import net from 'node:net';
import http from 'node:http';
import { Engine } from '../../packages/mqtt/src/index.js';
import { createMqttWsHandler } from '../../packages/hub/src/transports/mqtt.js';
import type { MqttDoor } from '../../packages/hub/src/transports/mqtt-door.js';
import { announce } from './announce.js';

const engine = new Engine();
const door: MqttDoor = {
  engine: 'core',
  handle: (stream, meta) => engine.handle(stream, { remote: meta.remote, transport: meta.transport }),
  get connectedClients() { return engine.connectedClients; },
  counters: () => engine.counters,
  errors: () => ({}),
  close: () => undefined,
};
const tcp = net.createServer((socket) => {
  socket.setNoDelay(true);
  door.handle(socket, { remote: socket.remoteAddress ?? '?', transport: 'tcp' });
});
const ws = createMqttWsHandler(door, engine.limits.maxPacketBytes);
const httpServer = http.createServer((_req, res) => res.writeHead(404).end());
httpServer.on('upgrade', (req, socket, head) => {
  if (req.url === '/mqtt') ws.handleUpgrade(req, socket, head);
  else socket.destroy();
});

await announce(tcp, httpServer);

const stop = () => {
  tcp.close();
  void ws.close();
  void engine.close().then(() => httpServer.close(() => process.exit(0)));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
