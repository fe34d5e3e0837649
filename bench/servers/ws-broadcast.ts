/**
 * The transport ceiling: a bare `ws` server that broadcasts every MQTT/TCP
 * PUBLISH payload it receives, as one text frame built once, to every WebSocket
 * client. No topics, no filters, no per-client state beyond ws' own: what any
 * Node broker on `ws` pays at least to move the same bytes.
 *
 * The frame is pre-serialised once per message (`Sender.frame`) and written to
 * each client's socket, as a broker that serialises once would at best.
 * With `--cork`, every client socket is corked for the rest of the event-loop
 * turn once a message arrives, so a burst of messages costs one write per client
 * instead of one per message: the gain write coalescing would bring a broker.
 * Prints `{"ready":true,"mqttPort":…,"wsPort":…}`; exits on SIGINT/SIGTERM.
 */
import net from 'node:net';
import http from 'node:http';
import * as wsModule from 'ws';
import { WebSocketServer } from 'ws';
import { MqttParser } from '../gen/mqtt-codec.js';
import { announce } from './announce.js';

const httpServer = http.createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server: httpServer, perMessageDeflate: false });

// `Sender.frame` (static) is public in ws but missing from @types/ws.
const frameOf = (wsModule as unknown as { Sender: { frame(d: Buffer, o: object): Buffer[] } }).Sender.frame;
const clients: net.Socket[] = [];
wss.on('connection', (ws) => {
  const sock = (ws as unknown as { _socket: net.Socket })._socket;
  clients.push(sock);
  ws.on('close', () => clients.splice(clients.indexOf(sock), 1));
});

const cork = process.argv.includes('--cork');
let corked = false;
const uncorkAll = () => {
  corked = false;
  for (const s of clients) s.uncork();
};

function broadcast(b: Buffer, start: number, end: number): void {
  if (cork && !corked) {
    corked = true;
    for (const s of clients) s.cork();
    setImmediate(uncorkAll); // after this turn's I/O callbacks: the whole burst read from the publisher
  }
  const data = Buffer.from(b.subarray(start, end));
  const parts = frameOf(data, { fin: true, opcode: 1, mask: false, readOnly: true, rsv1: false });
  const frame = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  for (const s of clients) s.write(frame);
}

const CONNACK = Buffer.from([0x20, 2, 0, 0]);
const tcp = net.createServer((socket) => {
  socket.setNoDelay(true);
  const parser = new MqttParser({ connack: () => {}, suback: () => {}, publish: broadcast });
  let connected = false;
  socket.on('data', (d: Buffer) => {
    if (!connected && d[0] === 0x10) {
      // CONNECT arrives alone (the client waits for CONNACK before publishing).
      connected = true;
      socket.write(CONNACK);
      return;
    }
    parser.feed(d);
  });
  socket.on('error', () => socket.destroy());
});

await announce(tcp, httpServer);

const stop = () => {
  tcp.close();
  for (const c of wss.clients) c.terminate();
  httpServer.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
