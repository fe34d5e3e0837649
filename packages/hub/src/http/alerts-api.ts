/**
 * HTTP API of alerts (docs/alerts.md), a route table as data:
 *   GET    /api/v1/alerts?state=&rule=&device=&from=&to=&limit=   history, newest first (`state=active`: firing now)
 *   GET    /api/v1/alerts/{id}
 *   POST   /api/v1/alerts/{id}/ack
 *   GET    /api/v1/alerts/rules
 *   PUT    /api/v1/alerts/rules/{name}     body: the rule (JSON, at most 16 KiB)
 *   DELETE /api/v1/alerts/rules/{name}
 * PUT and POST need `content-type: application/json` (a cross-site form cannot
 * send it without a preflight) and an allowed Origin when a browser sends one.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Identity, Security } from '../auth/index.js';
import type { AlertAccess, Outcome } from '../services/alerts/access.js';
import { Codes } from '@fieldlink/protocol';
import { sendError, sendJson } from './json.js';
import type { Param } from './openapi.js';
import { parseQuery } from './query.js';

const MAX_BODY = 16 * 1024;

const time = { type: ['integer', 'string'], description: 'ms since epoch, ISO 8601, `now`, or relative (`-1h`, `now-30m`)' };
const q = (name: string, description: string, schema: Record<string, unknown> = { type: 'string' }): Param => ({ name, in: 'query', description, schema });
/** Query parameters of the alerts routes: the OpenAPI document (http/openapi.ts) and the parser below read this one table. */
export const ALERT_PARAMS: Record<string, Param[]> = {
  '/api/v1/alerts': [
    q('state', '`firing`, `resolved`, or `active` (firing now, from memory)', { enum: ['firing', 'resolved', 'active'] }),
    q('rule', 'Rule name'), q('device', 'Device id'), q('from', 'Earliest firedAt (default 0)', time), q('to', 'Latest firedAt (default now)', time),
    q('limit', 'Most alerts (default 100, at most 1,000)', { type: 'integer', minimum: 1, maximum: 1000 }),
  ],
};


export interface AlertRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  summary: string;
  /** `query`: parsed by http/query.ts (each parameter once, only those ALERT_PARAMS lists for the route). */
  run(a: AlertAccess, who: Identity, p: { params: string[]; query: Record<string, string>; body: unknown }): Promise<Outcome> | Outcome;
}

export const ALERT_ROUTES: readonly AlertRoute[] = [
  { method: 'GET', path: '/api/v1/alerts/rules', summary: 'Alert rules (file and API)', run: (a, who) => a.rules(who) },
  { method: 'PUT', path: '/api/v1/alerts/rules/{name}', summary: 'Create or replace an API rule', run: (a, who, p) => a.putRule(who, p.body, p.params[0]) },
  { method: 'DELETE', path: '/api/v1/alerts/rules/{name}', summary: 'Delete an API rule', run: (a, who, p) => a.deleteRule(who, p.params[0]!) },
  { method: 'GET', path: '/api/v1/alerts', summary: 'Alert history, or the firing ones with state=active', run: (a, who, p) => a.list(who, p.query) },
  { method: 'GET', path: '/api/v1/alerts/{id}', summary: 'One alert', run: (a, who, p) => a.get(who, p.params[0]!) },
  { method: 'POST', path: '/api/v1/alerts/{id}/ack', summary: 'Acknowledge an alert', run: (a, who, p) => a.ack(who, p.params[0]!) },
];

const compiled = ALERT_ROUTES.map((r) => ({ r, re: new RegExp(`^${r.path.replace(/\{[^}]+\}/g, '([^/]+)')}$`) }));

async function readJson(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) throw new Error('too large');
    chunks.push(c);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/** Resolves false when the path is not an alerts route. */
export function alertsHandler(access: AlertAccess, sec: Security, who: Identity) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? '/', 'http://hub');
    if (url.pathname !== '/api/v1/alerts' && !url.pathname.startsWith('/api/v1/alerts/')) return false;
    const matches = compiled.map(({ r, re }) => ({ r, m: re.exec(url.pathname) })).filter((x) => x.m);
    // `rules` is a word, not an id: the literal route wins over /alerts/{id}.
    const hit = matches.find((x) => x.r.method === req.method && !(x.r.path.endsWith('{id}') && url.pathname.endsWith('/rules')));
    if (!hit) {
      if (matches.length === 0) sendError(res, 'NOT_FOUND', `no route ${url.pathname}`);
      else {
        res.setHeader('allow', [...new Set(matches.map((x) => x.r.method))].join(', '));
        // 405 as HTTP requires (with Allow), carrying the table's WRONG_TYPE code, as http/api.ts does.
        sendJson(res, 405, { error: { code: Codes.WRONG_TYPE.code, name: 'WRONG_TYPE', message: `method ${req.method ?? '?'} not allowed here` } });
      }
      return true;
    }
    let params: string[];
    try {
      params = hit.m!.slice(1).map((s) => decodeURIComponent(s));
    } catch {
      sendError(res, 'WRONG_TYPE', 'path is not valid percent-encoding');
      return true;
    }
    const refuse = (...a: Parameters<typeof sendError>) => {
      sendError(...a);
      return true;
    };
    let body: unknown;
    if (req.method === 'PUT' || req.method === 'POST') {
      if (!sec.originAllowed(req)) return refuse(res, 'ORIGIN_REJECTED');
      if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return refuse(res, 'WRONG_TYPE', 'send content-type: application/json');
      if (req.method === 'PUT') {
        try {
          body = await readJson(req);
        } catch {
          return refuse(res, 'BAD_JSON', `body must be JSON of at most ${MAX_BODY} bytes`);
        }
      }
    }
    const query = parseQuery(url.searchParams, (ALERT_PARAMS[hit.r.path] ?? []).map((q) => q.name));
    if (!query.ok) return refuse(res, query.code, query.message);
    const out = await hit.r.run(access, who, { params, query: query.params, body });
    if (out.ok) sendJson(res, 200, out.result);
    else sendError(res, out.code, out.message);
    return true;
  };
}
