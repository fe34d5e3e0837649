/**
 * Plain HTTP routes of the hub's one port: /healthz, /metrics, the session
 * endpoints of the dashboard login, the HTTP API (/api/v1/*) and the dashboard.
 * WebSocket upgrades are routed in http/server.ts.
 *
 * Who is asking: `Authorization: Bearer <token>`, else the session cookie, else
 * anonymous when allowed. The API answers only what the ACL lets that identity
 * read (the check is made in http/api.ts on the parsed query); /metrics needs
 * `read` on `#`. Every query string is read by http/query.ts.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '../log.js';
import type { Identity, Security } from '../auth/index.js';
import { sendError, sendJson } from './json.js';
import { createStaticHandler } from './static.js';
import { handleSession } from './session.js';
import { parseQuery } from './query.js';
import { hostRejected } from './hosts.js';

export interface HttpDeps {
  health(): unknown;
  /** Builds the API handler for one identity (its device list and history are filtered by the ACL). */
  api?: (who: Identity) => (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
  metrics: Registry;
  /** `GET /api/v1/links` (link/index.ts snapshot); needs read on `#` as /metrics does. */
  links?: () => Promise<unknown>;
  security: Security;
  secureCookies: boolean;
  dashboardDir: string;
  log: Logger;
}

/** The dashboard build lives in packages/hub/public (copied there by the dashboard's build). */
export function bundledDashboardDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'public');
}

const FALLBACK = `<!doctype html><meta charset="utf-8"><title>Fieldlink</title>
<body style="font:16px system-ui;margin:3rem;max-width:40rem">
<h1>Fieldlink hub</h1><p>The hub is running, but the dashboard has not been built.
Run <code>npm run build</code> in the repository, or use the WebSocket API at <code>/ws</code>.</p>`;

export async function identify(req: IncomingMessage, sec: Security): Promise<Identity | { code: 'BAD_CREDENTIALS' | 'RATE_LIMITED' | 'UNAUTHENTICATED'; message: string }> {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) {
    const peer = sec.peer(req);
    const r = await sec.authenticator.authenticate({ token: auth.slice(7).trim() }, peer.address, peer.proxied);
    return r.ok ? r.identity : { code: r.code as 'BAD_CREDENTIALS', message: r.message };
  }
  return sec.sessions.fromRequest(req) ?? sec.anonymousFor(req) ?? { code: 'UNAUTHENTICATED', message: 'log in, or send Authorization: Bearer <token>' };
}

export function createHttpHandler(deps: HttpDeps) {
  const dir = deps.dashboardDir || bundledDashboardDir();
  const serveStatic = createStaticHandler(dir);
  const hasDashboard = () => existsSync(join(dir, 'index.html'));
  return (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    const handle = async () => {
      // /healthz answers any Host: load balancers and orchestrators probe it by names
      // the hub does not know, and it carries nothing a rebinding page could use.
      if (path === '/healthz') return sendJson(res, 200, deps.health());
      if (!deps.security.hostAllowed(req)) {
        deps.security.countError('http', 'HOST_REJECTED');
        return sendError(res, 'HOST_REJECTED', hostRejected(req).message);
      }
      if (path === '/api/v1/session') {
        // Credentials travel in the JSON body only: a query string is never read, so it is refused.
        const q = parseQuery(url.searchParams, []);
        if (!q.ok) return sendError(res, q.code, q.message);
        return handleSession(req, res, deps.security, deps.secureCookies, deps.log);
      }
      if (path.startsWith('/api/') || path === '/metrics') {
        const who = await identify(req, deps.security);
        if (!('role' in who)) return sendError(res, who.code, who.message);
        if (path === '/metrics') {
          const q = parseQuery(url.searchParams, []);
          if (!q.ok) return sendError(res, q.code, q.message);
          if (!deps.security.allow(who, 'read', '#', 'http')) return sendError(res, 'FORBIDDEN');
          res.writeHead(200, { 'content-type': deps.metrics.contentType });
          return res.end(await deps.metrics.metrics());
        }
        if (path === '/api/v1/links' && deps.links) {
          const q = parseQuery(url.searchParams, []);
          if (!q.ok) return sendError(res, q.code, q.message);
          if (!deps.security.allow(who, 'read', '#', 'http')) return sendError(res, 'FORBIDDEN');
          return sendJson(res, 200, await deps.links());
        }
        if (deps.api && (await deps.api(who)(req, res))) return;
        return sendError(res, deps.api ? 'NOT_FOUND' : 'STORE_UNAVAILABLE');
      }
      if (serveStatic(req, res)) return;
      if (path === '/' && !hasDashboard()) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'x-frame-options': 'DENY', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'" });
        return res.end(FALLBACK);
      }
      sendError(res, 'NOT_FOUND');
    };
    handle().catch((err: unknown) => {
      deps.log.error({ err, path }, 'http request failed');
      if (!res.headersSent) sendError(res, 'INTERNAL');
      else res.destroy();
    });
  };
}
