/**
 * HTTP API v1 (read-only):
 *   GET /api/v1/history?device=&metric=&from=&to=&bucket=&limit=   JSON, as the WS `history` op
 *   GET /api/v1/history.csv?…   CSV: `ts,iso,value`, or `ts,iso,min,max,avg,count,last` with a bucket.
 *       Raw CSV is the export path: it streams the whole range in chunks (no `limit`),
 *       waiting for `drain`, so memory stays flat whatever the range; a bucketed CSV honours `limit`.
 *   GET /api/v1/devices, GET /api/v1/devices/{id}
 *   GET /api/v1/openapi.json   the OpenAPI 3.1 document of every route (http/openapi.ts)
 * Paths are dispatched by the route table of http/openapi.ts: a path it does not list is NOT_FOUND.
 * Query strings go through http/query.ts with the parameters the table declares for the route (each once,
 * none unknown); the access check on a history query reads the parsed query the store will run.
 * Errors: `{error:{code,name,message}}` with the code's HTTP status (http/json.ts).
 * The handler resolves false for paths outside /api/v1 so the hub can try other routes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Codes, isDeviceId } from '@fieldlink/protocol';
import type { DeviceRecord, Store } from '../storage/types.js';
import { parseHistoryParams, runHistory } from '../services/history.js';
import type { HistoryResult } from '../services/history.js';
import { sendError, sendJson } from './json.js';
import { CORE_ROUTES, openapiDocument } from './openapi.js';
import { parseQuery } from './query.js';
import { VERSION } from '../version.js';

export interface ApiDeps {
  store: Store;
  devices(): Promise<DeviceRecord[]>;
  device(id: string): Promise<DeviceRecord | undefined>;
  /** May the identity read this device's history? (Refusals are logged and counted by the caller.) */
  mayRead(device: string): boolean;
  maxLimit: number;
}

const PREFIX = '/api/v1';

export function createApiHandler(deps: ApiDeps): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://hub');
    const path = url.pathname;
    if (path !== PREFIX && !path.startsWith(`${PREFIX}/`)) return false;
    if (req.method !== 'GET') {
      // 405 as HTTP requires (with Allow), carrying the table's WRONG_TYPE code for clients.
      res.setHeader('allow', 'GET');
      sendJson(res, 405, { error: { code: Codes.WRONG_TYPE.code, name: 'WRONG_TYPE', message: `method ${req.method ?? '?'} not allowed: the API is read-only (GET)` } });
      return true;
    }
    try {
      await route(deps, path.slice(PREFIX.length), url.searchParams, res);
    } catch (err) {
      // Only store calls throw here; once a body has started, cut it so a truncated CSV never looks complete.
      if (res.headersSent) res.destroy(err as Error);
      else sendError(res, 'STORE_UNAVAILABLE', `store query failed: ${(err as Error).message}`);
    }
    return true;
  };
}

const TABLE = CORE_ROUTES.filter((r) => r.method === 'GET' && r.path.startsWith(`${PREFIX}/`) && r.tag !== 'session')
  .map((r) => ({
    id: r.id,
    re: new RegExp(`^${r.path.slice(PREFIX.length).replace(/\./g, '\\.').replace(/\{[^}]+\}/g, '([^/]+)')}$`),
    query: (r.params ?? []).filter((p) => p.in === 'query').map((p) => p.name),
  }));

async function route(deps: ApiDeps, path: string, params: URLSearchParams, res: ServerResponse): Promise<void> {
  const found = TABLE.map((r) => ({ id: r.id, query: r.query, m: r.re.exec(path) })).find((x) => x.m);
  if (!found?.m) return sendError(res, 'NOT_FOUND', `no route ${PREFIX}${path}`);
  const { m, ...hit } = found;
  const q = parseQuery(params, hit.query);
  if (!q.ok) return sendError(res, q.code, q.message);
  if (hit.id === 'openapi') return sendJson(res, 200, openapiDocument(VERSION));
  if (hit.id === 'history' || hit.id === 'historyCsv') {
    const parsed = parseHistoryParams(q.params, deps.maxLimit);
    if (!parsed.ok) return sendError(res, parsed.code, parsed.message);
    if (!deps.mayRead(parsed.query.device)) return sendError(res, 'FORBIDDEN', `not allowed to read "${parsed.query.device}"`);
    if (hit.id === 'history') return sendJson(res, 200, await runHistory(deps.store, parsed.query));
    return csv(deps.store, parsed.query, res);
  }
  if (hit.id === 'devices') return sendJson(res, 200, await deps.devices());
  if (hit.id === 'device') {
    let id: string;
    try {
      id = decodeURIComponent(m[1]!);
    } catch {
      return sendError(res, 'INVALID_ID', 'device id is not valid percent-encoding');
    }
    if (!isDeviceId(id)) return sendError(res, 'INVALID_ID');
    const rec = await deps.device(id);
    return rec ? sendJson(res, 200, rec) : sendError(res, 'UNKNOWN_DEVICE', `no device ${JSON.stringify(id)}`);
  }
  sendError(res, 'NOT_FOUND', `no route ${PREFIX}${path}`);
}

const iso = (ts: number) => new Date(ts).toISOString();

async function csv(store: Store, q: Parameters<typeof runHistory>[1], res: ServerResponse): Promise<void> {
  const name = `${q.device}-${q.metric}`.replace(/[^A-Za-z0-9._-]/g, '_');
  const head = () => res.writeHead(200, {
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': `attachment; filename="${name}.csv"`,
    'cache-control': 'no-store',
  });
  if (q.bucketMs !== undefined) {
    const r = (await runHistory(store, q)) as Extract<HistoryResult, { buckets: unknown }>;
    head();
    res.end(['ts,iso,min,max,avg,count,last', ...r.buckets.map((b) => `${b.ts},${iso(b.ts)},${b.min},${b.max},${b.avg},${b.count},${b.last}`)].join('\n') + '\n');
    return;
  }
  let closed = false;
  res.once('close', () => { closed = true; });
  const chunks = store.stream(q)[Symbol.asyncIterator]();
  const first = await chunks.next(); // a failing store still gets a JSON error, before the head is sent
  head();
  res.write('ts,iso,value\n');
  for (let c = first; !c.done && !closed; c = await chunks.next()) {
    let text = '';
    for (const p of c.value) text += `${p.ts},${iso(p.ts)},${p.value}\n`;
    if (!res.write(text)) await drainOrClose(res);
  }
  if (closed) await chunks.return?.();
  else res.end();
}

function drainOrClose(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => { res.off('drain', done); res.off('close', done); resolve(); };
    res.once('drain', done);
    res.once('close', done);
  });
}
