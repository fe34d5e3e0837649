/**
 * The node's own live page: a static HTML page and its script (separate files
 * in `public/`, no inline JS, served with a CSP that forbids inline code) plus a
 * WebSocket at `/ws/live` pushing readings to every open browser. Works with no
 * hub at all. Frames (server → browser, JSON; the schema is live-frames.ts):
 *   {op:"hello", id, model, intervalMs, history:[{ts, lux}…], latest?, hub?}   on connect
 *   {op:"reading", ts, lux, white, als, gain, integrationMs, hub:{connected, buffered}}
 *   {op:"identify", until, durationMs?}                          flash the page
 * The same page, embedded as a generated header (scripts/arduino-page.mjs), is
 * served by the ESP32 sketch in examples/arduino with the same frames.
 * GET /api/latest answers the last reading as JSON (for scripts and probes).
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

const PUBLIC = new URL('../../public/', import.meta.url); // same depth from src/node/ and dist/node/

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

const HEADERS = {
  'content-security-policy': "default-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-cache',
};

export interface LivePage {
  readonly port: number;
  readonly server: Server;
  broadcast(frame: Record<string, unknown>): void;
  readonly clients: number;
  close(): Promise<void>;
}

export async function startLivePage(opts: {
  port: number;
  host: string;
  hello: () => Record<string, unknown>;
  latest: () => Record<string, unknown> | undefined;
}): Promise<LivePage> {
  const cache = new Map<string, Buffer>();
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405, { allow: 'GET, HEAD' }).end(); return; }
    if (path === '/api/latest') {
      res.writeHead(200, { ...HEADERS, 'content-type': 'application/json' }).end(JSON.stringify(opts.latest() ?? null));
      return;
    }
    const f = FILES[path];
    if (!f) { res.writeHead(404, { ...HEADERS, 'content-type': 'text/plain' }).end('not found'); return; }
    const cached = cache.get(f.file);
    (cached ? Promise.resolve(cached) : readFile(new URL(f.file, PUBLIC))).then((body) => {
      cache.set(f.file, body);
      res.writeHead(200, { ...HEADERS, 'content-type': f.type, 'content-length': body.length }).end(req.method === 'HEAD' ? undefined : body);
    }, () => res.writeHead(500).end('page files missing'));
  });
  const wss = new WebSocketServer({ server, path: '/ws/live', maxPayload: 1024 });
  wss.on('connection', (ws: WebSocket) => {
    ws.on('error', () => undefined);
    ws.send(JSON.stringify({ op: 'hello', ...opts.hello() }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    server,
    get clients() { return wss.clients.size; },
    broadcast(frame) {
      const text = JSON.stringify(frame);
      // A slow browser must not hold readings in memory: skip it while its socket is backed up.
      for (const ws of wss.clients) if (ws.readyState === ws.OPEN && ws.bufferedAmount < 64 * 1024) ws.send(text);
    },
    async close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
