/**
 * MQTT listeners as adapters around the broker core: the core takes any duplex
 * stream (`broker.handle(stream)`), so each transport is a few lines here and an
 * entry in a table (the MQTT.js habit). The broker never owns a socket.
 */
import net from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { Aedes } from 'aedes';

/** MQTT over TCP on its own port. */
export function createMqttTcpServer(broker: Aedes): net.Server {
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    broker.handle(socket);
  });
  return server;
}

/**
 * MQTT over WebSocket (`/mqtt`). [MQTT-6.0.0-3]/[MQTT-6.0.0-4]: binary frames, and
 * the `mqtt` subprotocol is selected when offered (MQTT.js, paho). A client that
 * offers none is still served, as Mosquitto does.
 */
export function createMqttWsHandler(broker: Aedes, maxPayload: number) {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : protocols.has('mqttv3.1') ? 'mqttv3.1' : false),
  });
  return {
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
      wss.handleUpgrade(req, socket, head, (ws) => {
        const stream = createWebSocketStream(ws);
        stream.on('error', () => stream.destroy());
        broker.handle(stream, req);
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
