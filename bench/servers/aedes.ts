/**
 * A bare Aedes 1.2 broker, the way its README wires it: MQTT/TCP and MQTT over
 * WebSocket (`ws` + createWebSocketStream → broker.handle). No persistence
 * beyond Aedes' in-memory default, no auth. Binds ephemeral loopback ports and
 * prints `{"ready":true,"mqttPort":…,"wsPort":…}`; exits on SIGINT/SIGTERM.
 */
import net from 'node:net';
import http from 'node:http';
import { Aedes } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { announce } from './announce.js';

const broker = await Aedes.createBroker();
const tcp = net.createServer((socket) => {
  socket.setNoDelay(true);
  broker.handle(socket);
});
const httpServer = http.createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({
  server: httpServer,
  perMessageDeflate: false,
  handleProtocols: (p) => (p.has('mqtt') ? 'mqtt' : false),
});
wss.on('connection', (ws, req) => {
  const stream = createWebSocketStream(ws);
  stream.on('error', () => stream.destroy());
  broker.handle(stream, req);
});

await announce(tcp, httpServer);

const stop = () => {
  tcp.close();
  for (const c of wss.clients) c.terminate();
  httpServer.close();
  broker.close(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
