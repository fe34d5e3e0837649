/**
 * A small HTTP reverse proxy that does what the nginx example in
 * docs/deployment.md does, for tests of the documented setup end to end:
 * `proxy_set_header Host $host`, `X-Forwarded-For $proxy_add_x_forwarded_for`
 * (the client's own header, if any, with the address the proxy saw appended),
 * `X-Forwarded-Proto $scheme`, and WebSocket upgrades passed through.
 * (A TCP-level proxy that forwards bytes only is test/proxy.ts.)
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ReverseProxy {
  readonly port: number;
  readonly url: string;
  /** Requests and upgrades forwarded so far. */
  readonly forwarded: number;
  close(): Promise<void>;
}

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'x-forwarded-proto']);

function forwardedHeaders(req: http.IncomingMessage, keepUpgrade: boolean): [string, string][] {
  const out: [string, string][] = [];
  let xff: string | undefined;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    const lower = name.toLowerCase();
    if (lower === 'x-forwarded-for') xff = xff ? `${xff}, ${req.rawHeaders[i + 1]!}` : req.rawHeaders[i + 1]!;
    else if (HOP.has(lower) || (!keepUpgrade && lower === 'upgrade')) continue;
    else out.push([name, req.rawHeaders[i + 1]!]);
  }
  const client = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  out.push(['X-Forwarded-For', xff ? `${xff}, ${client}` : client], ['X-Forwarded-Proto', 'http']);
  if (keepUpgrade) out.push(['Connection', 'upgrade']);
  return out;
}

export async function startReverseProxy(targetPort: number): Promise<ReverseProxy> {
  let forwarded = 0;
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    forwarded++;
    const headers: Record<string, string> = {};
    for (const [k, v] of forwardedHeaders(req, false)) headers[k] = v;
    const up = http.request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers, setHost: false }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  });
  server.on('upgrade', (req: http.IncomingMessage, down: net.Socket, head: Buffer) => {
    forwarded++;
    const up = net.connect(targetPort, '127.0.0.1');
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        down.destroy();
        up.destroy();
      });
    }
    const lines = forwardedHeaders(req, true).map(([k, v]) => `${k}: ${v}`);
    up.write(`${req.method} ${req.url} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
    if (head.length) up.write(head);
    up.pipe(down);
    down.pipe(up);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    get forwarded() {
      return forwarded;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
