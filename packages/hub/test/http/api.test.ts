// Tests http/api.ts, the HTTP door of history and devices: a real server on port 0, a real SQLite store.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, get } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/storage/index.js';
import type { DeviceRecord, Store } from '../../src/storage/types.js';
import { runHistory } from '../../src/services/history.js';
import { createApiHandler } from '../../src/http/api.js';
import { validHistoryQuery } from '../helpers.js';

const NOW = Date.UTC(2025, 10, 25, 12);
const H = 3_600_000;
const ok = (input: Record<string, unknown>, max = 10_000) => validHistoryQuery(input, max, NOW);

describe('HTTP /api/v1', () => {
  let dir: string;
  let store: Store;
  let server: Server;
  let base: string;
  const devs: DeviceRecord[] = [{ id: 'dev1', firstSeen: 1, lastSeen: 2, online: true, last: { lux: { value: 3, ts: 2 } }, meta: null }];
  const N = 30_000;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fl-api-'));
    store = await openStore({ dataDir: dir });
    await store.append(Array.from({ length: N }, (_, i) => ({ device: 'dev1', metric: 'lux', ts: NOW - N * 100 + i * 100, value: i / 4 })));
    const api = createApiHandler({ store, maxLimit: 5000, devices: async () => devs, device: async (id) => devs.find((d) => d.id === id), mayRead: (id) => id !== 'secret-dev' });
    server = createServer((req, res) => {
      void api(req, res).then((handled) => { if (!handled) res.end('other route'); });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((r) => server.close(r));
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const error = async (path: string, status: number, name: string, init?: RequestInit) => {
    const r = await fetch(base + path, init);
    assert.equal(r.status, status, path);
    const body = (await r.json()) as { error: { code: number; name: string; message: string } };
    assert.equal(body.error.name, name, path);
    assert.equal(typeof body.error.code, 'number');
    assert.ok(body.error.message);
  };

  it('answers history as JSON, the same as runHistory', async () => {
    const qs = `device=dev1&metric=lux&from=${NOW - 1000}&to=${NOW}`;
    const r = await fetch(`${base}/api/v1/history?${qs}`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type')!, /^application\/json/);
    const body = (await r.json()) as { bucketMs: null; points: unknown[] };
    assert.deepEqual(body, await runHistory(store, ok({ device: 'dev1', metric: 'lux', from: NOW - 1000, to: NOW })));
    assert.equal(body.points.length, 10);
  });

  it('answers bad parameters, unknown routes and methods with coded errors', async () => {
    await error('/api/v1/history?device=dev1&metric=lux&bucket=7x', 400, 'UNKNOWN_BUCKET');
    await error('/api/v1/history?device=dev1&metric=lux&limit=5001', 400, 'LIMIT_TOO_LARGE');
    await error('/api/v1/history?metric=lux', 400, 'MISSING_FIELD');
    await error('/api/v1/history.csv?device=dev1&metric=lux&from=later', 400, 'BAD_TIME_RANGE');
    await error('/api/v1/devices/nobody', 404, 'UNKNOWN_DEVICE');
    await error('/api/v1/devices/a%2Fb', 400, 'INVALID_ID');
    await error('/api/v1/devices/%E0%A4%A', 400, 'INVALID_ID');
    await error('/api/v1/nope', 404, 'NOT_FOUND');
    await error('/api/v1', 404, 'NOT_FOUND');
    await error('/api/v1/history', 405, 'WRONG_TYPE', { method: 'POST', body: '{}' });
    assert.equal(await (await fetch(`${base}/api/v2/history`)).text(), 'other route'); // not ours: handler said false
  });

  it('reads each query parameter once: repeated, unknown and look-alike names are refused; the access check reads the parsed query', async () => {
    const rest = `metric=lux&from=${NOW - 1000}&to=${NOW}`;
    const polluted = [
      'device=dev1&device=secret-dev',
      'device=&device=secret-dev',
      'device=secret-dev&device=dev1',
      'device=dev1&%64evice=secret-dev', // the same name once decoded
      'device=dev1&device%5B%5D=secret-dev',
      'device[]=secret-dev',
      'Device=secret-dev&device=dev1',
      'device=dev1&DEVICE=secret-dev',
      'device=dev1&metric=other', // metric given twice (with the one in base)
      'device=dev1&limit=1&limit=2',
      'device=dev1&__proto__=x',
    ];
    for (const route of ['/api/v1/history', '/api/v1/history.csv']) {
      for (const q of polluted) await error(`${route}?${q}&${rest}`, 400, 'INVALID_PARAMS');
      await error(`${route}?device=secret-dev&${rest}`, 403, 'FORBIDDEN');
      await error(`${route}?device=secret%2Ddev&${rest}`, 403, 'FORBIDDEN'); // encoded: the check sees what the query runs
      await error(`${route}?device=%73ecret-dev&${rest}`, 403, 'FORBIDDEN');
      assert.equal((await fetch(`${base}${route}?device=dev1&${rest}`)).status, 200, 'the legitimate query still works');
    }
    for (const p of ['/api/v1/devices?device=dev1', '/api/v1/devices/dev1?device=secret-dev', '/api/v1/devices?x=1&x=2']) await error(p, 400, 'INVALID_PARAMS');
  });

  it('lists devices and gets one', async () => {
    assert.deepEqual(await (await fetch(`${base}/api/v1/devices`)).json(), devs);
    assert.deepEqual(await (await fetch(`${base}/api/v1/devices/dev1`)).json(), devs[0]);
  });

  it('streams the whole range as CSV, ignoring limit, in time order', async () => {
    const r = await fetch(`${base}/api/v1/history.csv?device=dev1&metric=lux&from=0&to=${NOW}`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type')!, /^text\/csv/);
    assert.match(r.headers.get('content-disposition')!, /filename="dev1-lux\.csv"/);
    const lines = (await r.text()).trimEnd().split('\n');
    assert.equal(lines[0], 'ts,iso,value');
    assert.equal(lines.length, N + 1);
    assert.equal(lines[1], `${NOW - N * 100},${new Date(NOW - N * 100).toISOString()},0`);
    assert.equal(lines[N], `${NOW - 100},${new Date(NOW - 100).toISOString()},${(N - 1) / 4}`);
  });

  it('writes bucket columns when a bucket is given', async () => {
    const text = await (await fetch(`${base}/api/v1/history.csv?device=dev1&metric=lux&from=${NOW - H}&to=${NOW - 1}&bucket=30m`)).text();
    const lines = text.trimEnd().split('\n');
    assert.equal(lines[0], 'ts,iso,min,max,avg,count,last');
    assert.equal(lines.length, 3);
    assert.equal(lines[2]!.split(',')[5], '18000');
  });

  it('survives a client that disconnects mid-CSV and keeps serving', async () => {
    await new Promise<void>((resolve, reject) => {
      get(`${base}/api/v1/history.csv?device=dev1&metric=lux&from=0&to=${NOW}`, (res) => {
        res.once('data', () => { res.destroy(); resolve(); });
      }).on('error', reject);
    });
    const r = await fetch(`${base}/api/v1/history?device=dev1&metric=lux&from=${NOW - 500}&to=${NOW}`);
    assert.equal(r.status, 200);
  });

  it('answers STORE_UNAVAILABLE when the store fails', async () => {
    const broken = await openStore({ dataDir: join(dir, 'broken') });
    await broken.close();
    const api = createApiHandler({ store: broken, maxLimit: 10, devices: async () => [], device: async () => undefined, mayRead: () => true });
    const s = createServer((req, res) => void api(req, res));
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
      for (const p of ['/api/v1/history?device=d&metric=m', '/api/v1/history.csv?device=d&metric=m']) {
        const r = await fetch(url + p);
        assert.equal(r.status, 503, p);
        assert.equal(((await r.json()) as { error: { name: string } }).error.name, 'STORE_UNAVAILABLE');
      }
    } finally {
      await new Promise((r) => s.close(r));
    }
  });
});
