/**
 * MQTT listeners as adapters around the broker core: the core takes any duplex
 * stream (`broker.handle(stream)`), so each transport is a few lines here (the
 * MQTT.js habit). The broker never owns a socket. Every stream gets the packet
 * size guard and counts against the shared connection limits.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { Aedes } from 'aedes';
import type { ConnectionLimits } from '../auth/limits.js';
import { guardReads } from './mqtt-limit.js';

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
export function createMqttTcpServer(broker: Aedes, limits: ConnectionLimits, maxPacketBytes: number, onOversize?: () => void): net.Server {
  return net.createServer((socket) => {
    if (!admit(socket, limits)) return;
    socket.setNoDelay(true);
    broker.handle(guardReads(socket, maxPacketBytes, onOversize));
  });
}

/** MQTT over TLS (mqtts). Client certificates are requested when a CA is given; the security hooks read them. */
export function createMqttTlsServer(broker: Aedes, limits: ConnectionLimits, maxPacketBytes: number, options: tls.TlsOptions, onOversize?: () => void): tls.Server {
  return tls.createServer(options, (socket) => {
    if (!admit(socket, limits)) return;
    socket.setNoDelay(true);
    broker.handle(guardReads(socket, maxPacketBytes, onOversize));
  });
}

/**
 * MQTT over WebSocket (`/mqtt`). [MQTT-6.0.0-3]/[MQTT-6.0.0-4]: binary frames, and
 * the `mqtt` subprotocol is selected when offered (MQTT.js, paho). A client that
 * offers none is still served, as Mosquitto does.
 */
export function createMqttWsHandler(broker: Aedes, maxPacketBytes: number, onOversize?: () => void) {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: maxPacketBytes + 5,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : protocols.has('mqttv3.1') ? 'mqttv3.1' : false),
  });
  return {
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
      wss.handleUpgrade(req, socket, head, (ws) => {
        const stream = createWebSocketStream(ws);
        stream.on('error', () => stream.destroy());
        broker.handle(guardReads(stream, maxPacketBytes, onOversize), req);
      });
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
