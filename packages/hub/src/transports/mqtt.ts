/**
 * MQTT listeners as adapters around the MQTT door (mqtt-door.ts): the engine
 * takes any duplex stream, so each transport is a few lines here (the MQTT.js
 * habit) and the engine never owns a socket. Every connection counts against the
 * shared connection limits; the door enforces the packet size.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { WsByteStream } from './ws-stream.js';
import type { ConnectionLimits } from '../auth/limits.js';
import type { MqttDoor } from './mqtt-door.js';

function admit(socket: net.Socket, limits: ConnectionLimits): boolean {
  const release = limits.acquire(socket.remoteAddress ?? '?');
  if (!release) {
    socket.destroy();
    return false;
  }
  socket.once('close', release);
  return true;
}

/** MQTT over TCP on its own port. */
export function createMqttTcpServer(door: MqttDoor, limits: ConnectionLimits): net.Server {
  return net.createServer((socket) => {
    if (!admit(socket, limits)) return;
    socket.setNoDelay(true);
    door.handle(socket, { remote: socket.remoteAddress ?? '?', transport: 'tcp' });
  });
}

/** The CN of a client certificate the TLS layer verified (requested when --tls-ca is given); the security hooks decide whether it names the device. */
function verifiedCommonName(socket: tls.TLSSocket): string | undefined {
  if (!socket.authorized) return undefined;
  const cn = socket.getPeerCertificate()?.subject?.CN;
  return typeof cn === 'string' ? cn : undefined;
}

/** MQTT over TLS (mqtts). */
export function createMqttTlsServer(door: MqttDoor, limits: ConnectionLimits, options: tls.TlsOptions): tls.Server {
  return tls.createServer(options, (socket) => {
    if (!admit(socket, limits)) return;
    socket.setNoDelay(true);
    door.handle(socket, { remote: socket.remoteAddress ?? '?', transport: 'tls', tlsCommonName: verifiedCommonName(socket) });
  });
}

/** An error on a /mqtt stream ends it (the engine sees 'close'); one function for all, no closure per connection. */
function destroyOnError(this: Duplex): void {
  this.destroy();
}

/**
 * One /mqtt connection, outside handleUpgrade's scope on purpose: a listener
 * created there would keep the upgrade request (headers, raw headers, its
 * stream state) alive as long as the connection, ~1–2 KB of every idle client.
 */
function serveWs(door: MqttDoor, ws: WebSocket, req: IncomingMessage): void {
  const stream = new WsByteStream(ws);
  stream.on('error', destroyOnError);
  // `req` only for Aedes (it reads the remote address from it); the core door keeps remote and transport
  door.handle(stream, { remote: req.socket.remoteAddress ?? '?', transport: 'ws', req });
}

/**
 * MQTT over WebSocket (`/mqtt`). [MQTT-6.0.0-3]/[MQTT-6.0.0-4]: binary frames, and
 * the `mqtt` subprotocol is selected when offered (MQTT.js, paho). A client that
 * offers none is still served, as Mosquitto does.
 */
export function createMqttWsHandler(door: MqttDoor, maxPacketBytes: number) {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: maxPacketBytes + 5,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : protocols.has('mqttv3.1') ? 'mqttv3.1' : false),
  });
  return {
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
      wss.handleUpgrade(req, socket, head, (ws) => serveWs(door, ws, req));
    },
    get clients() {
      return wss.clients.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close(() => resolve());
      }),
  };
}
