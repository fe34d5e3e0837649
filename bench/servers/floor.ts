/**
 * The floor of the fan-in bar (issue #12): a bare Node `net` server that reads
 * each device's bytes and writes them to the subscribers, nothing else. No
 * parsing beyond finding packet boundaries (so one device's partial packet is
 * never interleaved with another's), no topics, no sessions, no hooks: what any
 * Node server pays at least to move the same bytes through the same sockets.
 *
 * Devices speak MQTT/TCP: their CONNECT gets a fixed CONNACK, then their PUBLISH
 * bytes are forwarded verbatim. Subscribers speak MQTT over WebSocket (`ws`, as
 * the hub's /mqtt): CONNECT → CONNACK, SUBSCRIBE → SUBACK, then they receive
 * every device's packets. Writes are coalesced per event-loop iteration (one
 * binary frame per subscriber per iteration, [MQTT-6.0.0-2] allows several
 * packets in a frame), the cheapest way a server can write them, as the engine
 * does (packages/mqtt/src/connection.ts). Prints
 * `{"ready":true,"mqttPort":…,"wsPort":…}`; exits on SIGINT/SIGTERM.
 */
import net from 'node:net';
import http from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { announce } from './announce.js';

const httpServer = http.createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server: httpServer, perMessageDeflate: false, handleProtocols: (p) => (p.has('mqtt') ? 'mqtt' : false) });
const subscribers: WebSocket[] = [];

wss.on('connection', (ws) => {
  ws.on('message', (d: Buffer) => {
    // The generator's subscriber sends CONNECT, then one SUBSCRIBE (each in its own frame).
    if (d[0] === 0x10) ws.send(Buffer.from([0x20, 2, 0, 0]));
    else if (d[0] === 0x82) {
      let i = 1;
      while (d[i]! & 0x80) i++;
      ws.send(Buffer.from([0x90, 3, d[i + 1]!, d[i + 2]!, 0]));
      subscribers.push(ws);
    }
  });
  ws.on('close', () => { const i = subscribers.indexOf(ws); if (i >= 0) subscribers.splice(i, 1); });
  ws.on('error', () => ws.terminate());
});

let pending: Buffer[] = [];
let pendingBytes = 0;
function flush(): void {
  const data = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
  pending = [];
  pendingBytes = 0;
  for (const s of subscribers) s.send(data);
}
function forward(b: Buffer): void {
  if (pending.push(b) === 1) setImmediate(flush);
  pendingBytes += b.length;
}

/** Length of the complete packets at the start of b (Remaining Length scan only). */
function wholePackets(b: Buffer): number {
  let i = 0;
  for (;;) {
    let len = 0, mul = 1, h = 1;
    for (;;) {
      if (i + h >= b.length) return i;
      const x = b[i + h]!;
      len += (x & 0x7f) * mul;
      mul *= 128;
      h++;
      if ((x & 0x80) === 0) break;
    }
    if (i + h + len > b.length) return i;
    i += h + len;
  }
}

const CONNACK = Buffer.from([0x20, 2, 0, 0]);
const tcp = net.createServer((socket) => {
  socket.setNoDelay(true);
  let connected = false;
  let rest: Buffer | undefined;
  socket.on('data', (d: Buffer) => {
    let b = rest ? Buffer.concat([rest, d]) : d;
    rest = undefined;
    if (!connected) {
      const n = wholePackets(b);
      if (n === 0) { rest = b; return; }
      // CONNECT arrives alone: the client waits for CONNACK before publishing.
      connected = true;
      socket.write(CONNACK);
      b = b.subarray(n);
      if (b.length === 0) return;
    }
    const n = wholePackets(b);
    if (n > 0) forward(n === b.length ? b : b.subarray(0, n));
    if (n < b.length) rest = Buffer.from(b.subarray(n));
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
