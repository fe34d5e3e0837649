/**
 * Parameter pollution (issue #11 item 2): whatever the query string says, a token
 * scoped to d1 never reads d2. Every HTTP route reads its query through one
 * parser; a repeated or unknown parameter is 400 INVALID_PARAMS. A legitimate
 * device and viewer keep working throughout.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_RULES } from '../../src/auth/acl.js';
import { RawClient, mqttConnect, wsUrl } from '../helpers.js';
import { rawHttp } from '../raw-http.js';
import { legitTraffic, securedHub, type Secured } from './fixture.js';

let s: Secured;
let legit: Awaited<ReturnType<typeof legitTraffic>>;
const SECRET_LUX = 666_666; // d2's reading: it must never appear in an answer to d1's token
let t0: number;

before(async () => {
  // The deployment of the issue: devices may read their own history (a dashboard on the device, an app per device).
  const aclFile = join(mkdtempSync(join(tmpdir(), 'fl-acl-')), 'acl.json');
  writeFileSync(aclFile, JSON.stringify([...DEFAULT_RULES, { role: 'device', allow: ['read'], topics: ['devices/{id}/#'] }]));
  s = await securedHub({ aclFile });
  legit = await legitTraffic(s);
  t0 = Date.now() - 1000;
  const d2 = await mqttConnect(`mqtt://127.0.0.1:${s.hub.mqttPort}`, { username: 'd2', password: s.secret.d2 });
  await d2.publishAsync('devices/d2/telemetry', JSON.stringify({ lux: SECRET_LUX }), { qos: 1 });
  await d2.endAsync();
  await legit.flowing(); // d1 has a reading too
  const viewer = { authorization: `Bearer ${s.tokens.viewer}` };
  for (let i = 0; i < 200; i++) {
    const [a, b] = await Promise.all(['d1', 'd2'].map((d) => rawHttp(s.hub.httpPort, `/api/v1/history?device=${d}&metric=lux&from=${t0}`, { headers: viewer })));
    if (a!.body.includes('"points":[{') && b!.body.includes(String(SECRET_LUX))) break;
    await new Promise((r) => setTimeout(r, 25));
  }
});
after(async () => {
  await legit.close();
  await s.stop();
});

const asDevice = () => ({ authorization: `Bearer ${s.tokens.device}` }); // a token scoped to d1

test('history and history.csv: repeated, look-alike and unknown parameters are 400 INVALID_PARAMS; d2 never leaks to d1\'s token', async () => {
  const rest = `metric=lux&from=${t0}`;
  const polluted = [
    'device=&device=d2',
    'device=d1&device=d2',
    'device=d2&device=d1',
    'device=d1&device=d2&device=d1',
    'device=d1&%64evice=d2',
    'device=d1&devic%65=d2',
    'device%5B%5D=d2&device=d1',
    'device[]=d2',
    'device[0]=d2&device=d1',
    'Device=d2&device=d1',
    'device=d1&DEVICE=d2',
    'device=d1&devices=d2',
    'device=d1&metric=lux', // metric twice
    'device=d1&from=0', // from twice
  ];
  for (const route of ['/api/v1/history', '/api/v1/history.csv']) {
    for (const q of polluted) {
      const r = await rawHttp(s.hub.httpPort, `${route}?${q}&${rest}`, { headers: asDevice() });
      assert.equal(r.status, 400, `${route}?${q}`);
      assert.equal(r.error, 'INVALID_PARAMS', `${route}?${q}`);
      assert.ok(!r.body.includes(String(SECRET_LUX)));
    }
    for (const d of ['d2', '%64%32', 'd%32']) {
      const r = await rawHttp(s.hub.httpPort, `${route}?device=${d}&${rest}`, { headers: asDevice() });
      assert.equal(r.status, 403, `${route} device=${d}`);
      assert.equal(r.error, 'FORBIDDEN');
    }
    const own = await rawHttp(s.hub.httpPort, `${route}?device=d1&${rest}`, { headers: asDevice() });
    assert.equal(own.status, 200, 'its own history still reads');
    assert.ok(!own.body.includes(String(SECRET_LUX)));
  }
  // the same rule for everyone: a viewer who may read both still cannot send two
  assert.equal((await rawHttp(s.hub.httpPort, `/api/v1/history?device=d1&device=d2&${rest}`, { headers: { authorization: `Bearer ${s.tokens.viewer}` } })).error, 'INVALID_PARAMS');
  assert.ok(!(await rawHttp(s.hub.httpPort, `/api/v1/history?device=d2&${rest}`, { headers: { authorization: `Bearer ${s.tokens.viewer}` } })).body.includes('INVALID'), 'viewer reads d2');
  await legit.flowing();
});

test('devices, metrics and session routes: a query they do not take is refused, path and query never disagree', async () => {
  const dev = asDevice();
  const cases: [string, number, string][] = [
    ['/api/v1/devices?device=d2', 400, 'INVALID_PARAMS'],
    ['/api/v1/devices/d1?device=d2', 400, 'INVALID_PARAMS'],
    ['/api/v1/devices/d2?device=d1', 400, 'INVALID_PARAMS'],
    ['/api/v1/devices?x=1&x=2', 400, 'INVALID_PARAMS'],
    ['/api/v1/devices/d2', 404, 'UNKNOWN_DEVICE'], // other devices do not exist for it
    ['/api/v1/devices/%64%32', 404, 'UNKNOWN_DEVICE'], // nor encoded
    ['/api/v1/devices/d%32', 404, 'UNKNOWN_DEVICE'],
    ['/metrics?format=json', 400, 'INVALID_PARAMS'],
  ];
  for (const [path, status, name] of cases) {
    const r = await rawHttp(s.hub.httpPort, path, { headers: dev });
    assert.equal(r.status, status, path);
    assert.equal(r.error, name, path);
    assert.ok(!r.body.includes(String(SECRET_LUX)), path);
  }
  const own = await rawHttp(s.hub.httpPort, '/api/v1/devices', { headers: dev });
  assert.deepEqual((JSON.parse(own.body) as { id: string }[]).map((d) => d.id), ['d1']);
  // credentials in the body only: a query string on the session route is refused, never merged
  const json = { 'content-type': 'application/json' };
  const both = await rawHttp(s.hub.httpPort, '/api/v1/session?user=vera&password=x', { method: 'POST', headers: json, body: JSON.stringify({ user: 'otto', password: s.passwords.otto }) });
  assert.equal(both.error, 'INVALID_PARAMS');
  assert.equal(both.headers['set-cookie'], undefined);
  assert.equal((await rawHttp(s.hub.httpPort, '/api/v1/session?user=otto')).error, 'INVALID_PARAMS');
  // a JSON body that names the user twice is read once, by one parser (the last one, as JSON.parse does)
  const twice = await rawHttp(s.hub.httpPort, '/api/v1/session', { method: 'POST', headers: json, body: `{"user":"otto","password":"${s.passwords.vera}","user":"vera"}` });
  assert.equal(twice.status, 200);
  assert.match(twice.body, /"id":"vera"/);
  await legit.flowing();
});

test('/ws history: a frame that names the device twice is checked and run on the same value', async () => {
  const c = await RawClient.open(wsUrl(s.hub, '/ws'));
  assert.equal((await c.request('auth', { token: s.tokens.device })).ok, true);
  c.sendRaw(`{"op":"history","id":"h1","device":"d2","metric":"lux","from":${t0},"device":"d1"}`);
  const ok = await c.waitFor((f) => f.id === 'h1');
  assert.equal(ok.ok, true);
  assert.equal((ok.result as { device: string }).device, 'd1');
  c.sendRaw(`{"op":"history","id":"h2","device":"d1","metric":"lux","from":${t0},"device":"d2"}`);
  const refused = await c.waitFor((f) => f.id === 'h2');
  assert.equal(refused.error?.name, 'FORBIDDEN');
  assert.ok(!JSON.stringify(c.frames).includes(String(SECRET_LUX)));
  c.close();
  await legit.flowing();
});
