/**
 * The hub's one HTTP(S) server: plain requests go to the route handler;
 * WebSocket upgrades are routed by path, after the checks every WebSocket door
 * shares: the Host allow-list (DNS rebinding, http/hosts.ts), the browser Origin
 * allow-list and the connection limits, keyed by the client address
 * (auth/peer.ts: through trusted proxies).
 */
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { ConfigError } from '../config/schema.js';
import type { Security } from '../auth/index.js';
import type { Logger } from '../log.js';
import { hostRejected } from './hosts.js';

export type Upgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;

function refuse(socket: Duplex, status: string, body: object): void {
  const text = JSON.stringify(body);
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
}

export function createHttpServer(
  handler: http.RequestListener,
  upgrades: Record<string, Upgrade>,
  sec: Security,
  log: Logger,
  tls?: https.ServerOptions,
): http.Server {
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    // Browsers always send Origin with a WebSocket upgrade (RFC 6455 §4.1): one without
    // is a device or a script, which no rebinding page can be, so it may use any name.
    if (req.headers.origin !== undefined && !sec.hostAllowed(req)) {
      sec.countError('http', 'HOST_REJECTED');
      return refuse(socket, '421 Misdirected Request', { error: hostRejected(req) });
    }
    const route = upgrades[path];
    if (!route) return refuse(socket, '404 Not Found', { error: { code: 1017, name: 'NOT_FOUND', message: `no WebSocket door at ${path}` } });
    if (!sec.originAllowed(req)) {
      log.warn({ origin: req.headers.origin, path }, 'WebSocket upgrade from a foreign origin refused');
      return refuse(socket, '403 Forbidden', { error: { code: 3003, name: 'ORIGIN_REJECTED', message: 'origin not allowed' } });
    }
    const release = sec.connections.acquire(sec.peer(req).address);
    if (!release) return refuse(socket, '503 Service Unavailable', { error: { code: 2003, name: 'OVERLOADED', message: 'too many connections' } });
    socket.once('close', release);
    route(req, socket, head);
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  return server;
}

const LISTEN_BACKLOG = 4096;

export function listen(server: net.Server, port: number, host: string, option: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new ConfigError(`port ${port} on ${host} is already in use: choose another with ${option}`));
      else if (err.code === 'EACCES') reject(new ConfigError(`no permission to listen on ${host}:${port}: choose a port above 1023 with ${option}`));
      else if (err.code === 'EADDRNOTAVAIL') reject(new ConfigError(`address ${host} is not available on this machine (--host)`));
      else reject(err);
    };
    server.once('error', onError);
    // A reconnect wave (a hub restart, a network blip: thousands of clients at once)
    // overflows Node's default accept backlog of 511; dropped SYNs cost each client
    // a 1–3 s retransmit. The kernel caps this at net.core.somaxconn.
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
