/**
 * The HTTP API as data: every route the hub serves under /api/v1 (plus
 * /healthz and /metrics), with its parameters and answers. http/api.ts
 * dispatches by this table (a path not in it is NOT_FOUND), the alerts routes
 * are http/alerts-api.ts's own table, and `GET /api/v1/openapi.json` is the
 * OpenAPI 3.1 document built from both (test/http/openapi.test.ts checks that
 * every described route answers and that nothing undescribed does).
 */
import { Codes, type CodeName } from '@fieldlink/protocol';
import { ALERT_PARAMS, ALERT_ROUTES } from './alerts-api.js';

export interface Param { name: string; in: 'query' | 'path'; description: string; required?: boolean; schema?: Record<string, unknown> }

export interface RouteDoc {
  id: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  summary: string;
  tag: string;
  params?: Param[];
  body?: string;
  /** Schema name of a JSON answer, or a content type for other answers. */
  response: string;
  errors: CodeName[];
}

const time = { type: ['integer', 'string'], description: 'ms since epoch, ISO 8601, `now`, or relative (`-1h`, `now-30m`)' };
const q = (name: string, description: string, schema: Record<string, unknown> = { type: 'string' }, required = false): Param => ({ name, in: 'query', description, schema, ...(required ? { required } : {}) });
const HISTORY_PARAMS: Param[] = [
  q('device', 'Device id', { type: 'string' }, true), q('metric', 'Telemetry field', { type: 'string' }, true),
  q('from', 'Start (default: 24 h before `to`)', time), q('to', 'End (default: now)', time),
  q('bucket', 'Bucket width (`10s`, `5m`, `1h`, ms) or `auto`'), q('limit', 'Most points or buckets (default 1,000)', { type: 'integer', minimum: 1 }),
];

/** Routes of http/api.ts, routes.ts and session.ts (the alerts routes are appended from their own table). */
export const CORE_ROUTES: readonly RouteDoc[] = [
  { id: 'history', method: 'GET', path: '/api/v1/history', tag: 'history', summary: 'Telemetry history, raw or bucketed', params: HISTORY_PARAMS, response: 'History', errors: ['MISSING_FIELD', 'BAD_TIME_RANGE', 'UNKNOWN_BUCKET', 'LIMIT_TOO_LARGE', 'FORBIDDEN'] },
  { id: 'historyCsv', method: 'GET', path: '/api/v1/history.csv', tag: 'history', summary: 'The same range as CSV, streamed (`ts,iso,value` or bucketed columns)', params: HISTORY_PARAMS, response: 'text/csv', errors: ['MISSING_FIELD', 'BAD_TIME_RANGE', 'FORBIDDEN'] },
  { id: 'devices', method: 'GET', path: '/api/v1/devices', tag: 'devices', summary: 'Devices the identity may read', response: 'DeviceList', errors: [] },
  { id: 'device', method: 'GET', path: '/api/v1/devices/{id}', tag: 'devices', summary: 'One device', params: [{ name: 'id', in: 'path', required: true, description: 'Device id' }], response: 'Device', errors: ['INVALID_ID', 'UNKNOWN_DEVICE'] },
  { id: 'openapi', method: 'GET', path: '/api/v1/openapi.json', tag: 'meta', summary: 'This document', response: 'application/json', errors: [] },
  { id: 'session', method: 'GET', path: '/api/v1/session', tag: 'session', summary: 'Who the session cookie (or anonymous access) is', response: 'Session', errors: ['UNAUTHENTICATED'] },
  { id: 'login', method: 'POST', path: '/api/v1/session', tag: 'session', summary: 'Dashboard login: sets an HttpOnly session cookie', body: 'Login', response: 'Session', errors: ['BAD_CREDENTIALS', 'RATE_LIMITED', 'ORIGIN_REJECTED'] },
  { id: 'logout', method: 'DELETE', path: '/api/v1/session', tag: 'session', summary: 'Log out', response: 'Ok', errors: [] },
  { id: 'healthz', method: 'GET', path: '/healthz', tag: 'meta', summary: 'Health, counts and store/bus state', response: 'Health', errors: [] },
  { id: 'links', method: 'GET', path: '/api/v1/links', tag: 'meta', summary: 'Links: this hub as a site (its central) and the sites linked to it, with queues, lag and counters (needs `read` on `#`)', response: 'application/json', errors: ['FORBIDDEN'] },
  { id: 'metrics', method: 'GET', path: '/metrics', tag: 'meta', summary: 'Prometheus metrics (needs `read` on `#`)', response: 'text/plain', errors: ['FORBIDDEN'] },
];

const ALERT_RESPONSES: Record<string, string> = { 'GET /api/v1/alerts': 'AlertList', 'GET /api/v1/alerts/rules': 'RuleList', 'PUT /api/v1/alerts/rules/{name}': 'RuleReply', 'DELETE /api/v1/alerts/rules/{name}': 'Ok' };

export function allRoutes(): RouteDoc[] {
  const alerts = ALERT_ROUTES.map((r): RouteDoc => ({
    id: `${r.method.toLowerCase()}:${r.path}`, method: r.method, path: r.path, summary: r.summary, tag: 'alerts',
    params: [...(ALERT_PARAMS[r.path] ?? []), ...[...r.path.matchAll(/\{(\w+)\}/g)].map((m): Param => ({ name: m[1]!, in: 'path', required: true, description: m[1] === 'id' ? 'Alert id' : 'Rule name' }))],
    ...(r.method === 'PUT' ? { body: 'Rule' } : {}),
    response: ALERT_RESPONSES[`${r.method} ${r.path}`] ?? 'AlertReply',
    errors: r.method === 'GET' ? ['UNKNOWN_ALERT', 'BAD_TIME_RANGE', 'FORBIDDEN'] : ['INVALID_RULE', 'RULE_READ_ONLY', 'UNKNOWN_RULE', 'UNKNOWN_ALERT', 'FORBIDDEN'],
  }));
  return [...CORE_ROUTES, ...alerts];
}

const obj = (properties: Record<string, unknown>, required: string[] = []) => ({ type: 'object', properties, ...(required.length ? { required } : {}) });
const num = { type: 'number' };
const int = { type: 'integer' };
const str = { type: 'string' };
const nullable = (t: string) => ({ type: [t, 'null'] });
const ref = (n: string) => ({ $ref: `#/components/schemas/${n}` });

const SCHEMAS: Record<string, unknown> = {
  Error: obj({ error: obj({ code: int, name: str, message: str }, ['code', 'name', 'message']) }, ['error']),
  Ok: obj({}),
  Point: obj({ ts: int, value: num }, ['ts', 'value']),
  Bucket: obj({ ts: int, min: num, max: num, avg: num, count: int, last: num }),
  History: obj({ device: str, metric: str, from: int, to: int, bucketMs: nullable('integer'), points: { type: 'array', items: ref('Point') }, buckets: { type: 'array', items: ref('Bucket') } }, ['device', 'metric', 'from', 'to', 'bucketMs']),
  Device: obj({ id: str, online: { type: 'boolean' }, firstSeen: int, lastSeen: int, last: { type: 'object', additionalProperties: obj({ value: {}, ts: int }) }, meta: {} }, ['id', 'online']),
  DeviceList: { type: 'array', items: ref('Device') },
  Login: obj({ user: str, password: str }, ['user', 'password']),
  Session: obj({ identity: obj({ kind: str, id: str, role: str }) }),
  Health: obj({ status: str, version: str, uptimeSec: int }, ['status']),
  Alert: obj({
    id: str, rule: str, device: str, kind: { enum: ['threshold', 'absence', 'rate'] }, state: { enum: ['firing', 'resolved'] }, value: nullable('number'), message: str,
    firedAt: int, resolvedAt: nullable('integer'), ackedAt: nullable('integer'), ackedBy: nullable('string'),
  }, ['id', 'rule', 'device', 'kind', 'state', 'firedAt']),
  AlertList: obj({ from: int, to: int, alerts: { type: 'array', items: ref('Alert') } }, ['alerts']),
  AlertReply: obj({ alert: ref('Alert') }, ['alert']),
  Rule: obj({
    name: str, kind: { enum: ['threshold', 'absence', 'rate'] }, devices: { type: 'array', items: str }, description: str, metric: str,
    above: num, below: num, hysteresis: num, for: { type: ['integer', 'string'] }, offline: { type: 'boolean' },
    window: { type: ['integer', 'string'] }, rise: num, fall: num, change: num, renotify: { type: ['integer', 'string'] }, origin: { enum: ['file', 'api'] },
  }, ['kind']),
  RuleList: obj({ rules: { type: 'array', items: ref('Rule') } }, ['rules']),
  RuleReply: obj({ rule: ref('Rule') }, ['rule']),
};

export function openapiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of allRoutes()) {
    const content = r.response.includes('/') ? { [r.response]: { schema: r.response === 'application/json' ? { type: 'object' } : str } } : { 'application/json': { schema: ref(r.response) } };
    const responses: Record<string, unknown> = { 200: { description: 'OK', content } };
    for (const e of r.errors) {
      const status = String(Codes[e].http);
      const prev = responses[status] as { description: string } | undefined;
      responses[status] = { description: prev ? `${prev.description}, ${e}` : e, content: { 'application/json': { schema: ref('Error') } } };
    }
    (paths[r.path] ??= {})[r.method.toLowerCase()] = {
      operationId: r.id.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase()),
      summary: r.summary,
      tags: [r.tag],
      ...(r.params?.length ? { parameters: r.params.map((p) => ({ ...p, schema: p.schema ?? str })) } : {}),
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: ref(r.body) } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Fieldlink hub HTTP API', version, description: 'History, CSV export, devices, session and alerts. Errors use the table of docs/errors.md.' },
    components: {
      schemas: SCHEMAS,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API token (`fieldlink token create`)' }, cookie: { type: 'apiKey', in: 'cookie', name: 'fl_session' } },
    },
    security: [{ bearer: [] }, { cookie: [] }, {}],
    paths,
  };
}
