/**
 * Plain HTTP routes of the hub's one port: /healthz, the HTTP API (/api/v1/*)
 * and the dashboard (/). WebSocket upgrades are routed in hub.ts.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log.js';
import { sendError, sendJson } from './json.js';
import { createStaticHandler } from './static.js';

export interface HttpDeps {
  health(): unknown;
  api?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
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

export function createHttpHandler(deps: HttpDeps) {
  const dir = deps.dashboardDir || bundledDashboardDir();
  const serveStatic = createStaticHandler(dir);
  const hasDashboard = () => existsSync(join(dir, 'index.html'));
  return (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const handle = async () => {
      if (path === '/healthz') return sendJson(res, 200, deps.health());
      if (path.startsWith('/api/')) {
        if (deps.api && (await deps.api(req, res))) return;
        return sendError(res, deps.api ? 'NOT_FOUND' : 'STORE_UNAVAILABLE');
      }
      if (serveStatic(req, res)) return;
      if (path === '/' && !hasDashboard()) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
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
