// GET /api/v1/openapi.json against a live hub: a well-formed OpenAPI 3.1 document
// (refs resolve, path parameters declared, unique operation ids); every described
// route answers (no NOT_FOUND, no method refusal), live answers match their
// schemas, undescribed paths are NOT_FOUND, and every literal route of the HTTP
// handler source is described.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hub } from '../../src/hub.js';
import { startTestHub } from '../helpers.js';

type Schema = Record<string, unknown>;
type Doc = { openapi: string; paths: Record<string, Record<string, { operationId: string; parameters?: { name: string; in: string }[]; responses: Record<string, { content?: Record<string, { schema: Schema }> }> }>>; components: { schemas: Record<string, Schema> } };

/** Validates the JSON Schema subset the document uses (type, enum, properties, required, items, additionalProperties, $ref). */
function check(doc: Doc, s: Schema, v: unknown, at: string): string[] {
  if (typeof s.$ref === 'string') {
    const target = doc.components.schemas[s.$ref.replace('#/components/schemas/', '')];
    return target ? check(doc, target, v, at) : [`${at}: unresolved ${s.$ref}`];
  }
  const errs: string[] = [];
  const types = s.type === undefined ? undefined : ([] as unknown[]).concat(s.type);
  const typeOf = (x: unknown) => (x === null ? 'null' : Array.isArray(x) ? 'array' : Number.isInteger(x) ? 'integer' : typeof x);
  if (types && !types.some((t) => t === typeOf(v) || (t === 'number' && typeOf(v) === 'integer'))) return [`${at}: ${typeOf(v)} is not ${types.join('|')}`];
  if (Array.isArray(s.enum) && !s.enum.includes(v)) errs.push(`${at}: ${JSON.stringify(v)} not in enum`);
  if (typeOf(v) === 'object') {
    const o = v as Record<string, unknown>;
    for (const r of (s.required as string[] | undefined) ?? []) if (!(r in o)) errs.push(`${at}: missing ${r}`);
    for (const [k, sub] of Object.entries((s.properties as Record<string, Schema> | undefined) ?? {})) if (k in o) errs.push(...check(doc, sub, o[k], `${at}.${k}`));
    if (s.additionalProperties && typeof s.additionalProperties === 'object') for (const [k, x] of Object.entries(o)) errs.push(...check(doc, s.additionalProperties as Schema, x, `${at}.${k}`));
  }
  if (Array.isArray(v) && s.items) v.forEach((x, i) => errs.push(...check(doc, s.items as Schema, x, `${at}[${i}]`)));
  return errs;
}

describe('OpenAPI document', () => {
  let dir: string;
  let hub: Hub;
  let doc: Doc;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fl-openapi-'));
    hub = await startTestHub({ store: `sqlite:${join(dir, 'hub.db')}` });
    await hub.bus.publish('devices/d1/telemetry', JSON.stringify({ lux: 3 }));
    const res = await fetch(`${hub.url}/api/v1/openapi.json`);
    assert.equal(res.status, 200);
    doc = (await res.json()) as Doc;
  });
  after(async () => {
    await hub.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('is well formed: 3.1, refs resolve, path parameters declared, operation ids unique', () => {
    assert.equal(doc.openapi, '3.1.0');
    const ids = new Set<string>();
    const text = JSON.stringify(doc);
    for (const m of text.matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)) assert.ok(doc.components.schemas[m[1]!], `schema ${m[1]}`);
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        assert.ok(!ids.has(op.operationId), `duplicate operationId ${op.operationId}`);
        ids.add(op.operationId);
        assert.ok(op.responses['200'], `${method} ${path} has a 200 answer`);
        for (const p of path.matchAll(/\{(\w+)\}/g)) assert.ok(op.parameters?.some((x) => x.in === 'path' && x.name === p[1]), `${method} ${path} declares {${p[1]}}`);
      }
    }
  });

  it('every described route answers, and live JSON answers match their schemas', async () => {
    const fill = (p: string) => p.replace('{id}', p.includes('alerts') ? '00000000-0000-0000-0000-000000000000' : 'd1').replace('{name}', 'probe');
    const queries: Record<string, string> = { '/api/v1/history': '?device=d1&metric=lux', '/api/v1/history.csv': '?device=d1&metric=lux' };
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const init: RequestInit = { method: method.toUpperCase(), headers: { 'content-type': 'application/json' } };
        if (method === 'put') init.body = JSON.stringify({ kind: 'absence', for: '1h' });
        if (method === 'post' && path === '/api/v1/session') init.body = JSON.stringify({ user: 'nobody', password: 'x' });
        const res = await fetch(`${hub.url}${fill(path)}${queries[path] ?? ''}`, init);
        const type = res.headers.get('content-type') ?? '';
        const body: unknown = type.startsWith('application/json') ? await res.json() : await res.text();
        const err = (body as { error?: { name: string } }).error;
        assert.notEqual(err?.name, 'NOT_FOUND', `${method} ${path}: ${JSON.stringify(body)}`);
        assert.notEqual(res.status, 405, `${method} ${path}`);
        const schema = op.responses[String(res.status)]?.content?.['application/json']?.schema;
        if (res.status === 200 && schema) assert.deepEqual(check(doc, schema, body, `${method} ${path}`), []);
        if (res.status !== 200) assert.ok(op.responses[String(res.status)], `${method} ${path} answered ${res.status}, which is not described (${JSON.stringify(body)})`);
      }
    }
  });

  it('undescribed paths are NOT_FOUND, and every literal route of the handler source is described', async () => {
    for (const p of ['/api/v1/history2', '/api/v1/devices/d1/extra', '/api/v1/alerts/rules/a/b', '/api/v1/nope', '/api/v2/devices']) {
      const body = (await (await fetch(`${hub.url}${p}`)).json()) as { error: { name: string } };
      assert.equal(body.error.name, 'NOT_FOUND', p);
    }
    const src = readFileSync(new URL('../../src/http/routes.ts', import.meta.url), 'utf8');
    const literals = [...src.matchAll(/path === '(\/[^']+)'/g)].map((m) => m[1]!).filter((p) => p !== '/');
    assert.ok(literals.length >= 3);
    for (const p of literals) assert.ok(doc.paths[p], `${p} is described`);
  });
});
