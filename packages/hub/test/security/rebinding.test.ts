/**
 * DNS rebinding (issue #11 item 8): a page on a name the attacker controls,
 * re-pointed at the hub, sends Host and Origin of that name. The hub answers only
 * to names it is known by, on every HTTP route (but /healthz) and every WebSocket
 * door, with 421 HOST_REJECTED telling the operator which option to set. A
 * legitimate device and viewer keep working throughout.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Hub } from '../../src/hub.js';
import { networkInterfaces } from 'node:os';
import { pino } from 'pino';
import { startHub } from '../../src/hub.js';
import { RawClient, startTestHub, testConfig, wsUrl } from '../helpers.js';
import { rawHttp } from '../raw-http.js';
import { maskedFrame, rawUpgrade } from '../raw-ws.js';
import { legitTraffic, securedHub, type Secured } from './fixture.js';

let s: Secured;
let legit: Awaited<ReturnType<typeof legitTraffic>>;

before(async () => {
  s = await securedHub({ allowedHosts: ['hub.example', '.fieldlink.test'] });
  legit = await legitTraffic(s);
});
after(async () => {
  await legit.close();
  await s.stop();
});

const foreign = (port: number) => [`evil.example:${port}`, 'evil.example', 'EVIL.EXAMPLE.', `localhost.evil.example:${port}`, '127.0.0.1.evil.example', `hub.example.evil.example:${port}`, 'fieldlink.test.evil', `[2001:db8::1]:${port}`, '203.0.113.7'];
const known = (port: number) => [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `127.0.0.2:${port}`, `hub.example:${port}`, `HUB.EXAMPLE.:${port}`, `dash.fieldlink.test:${port}`, `app.localhost:${port}`];

test('HTTP: every route but /healthz refuses a foreign Host with 421 HOST_REJECTED naming --allowed-hosts', async () => {
  const port = s.hub.httpPort;
  const viewer = `Bearer ${s.tokens.viewer}`;
  const routes: [string, string, Record<string, string>, string?][] = [
    ['GET', '/', {}],
    ['GET', '/index.html', {}],
    ['GET', '/assets/app.js', {}],
    ['GET', '/api/v1/devices', { authorization: viewer }],
    ['GET', '/api/v1/devices/d1', { authorization: viewer }],
    ['GET', '/api/v1/history?device=d1&metric=lux', { authorization: viewer }],
    ['GET', '/api/v1/history.csv?device=d1&metric=lux', { authorization: viewer }],
    ['GET', '/metrics', { authorization: viewer }],
    ['GET', '/api/v1/session', {}],
    ['POST', '/api/v1/session', { 'content-type': 'application/json' }, JSON.stringify({ user: 'otto', password: s.passwords.otto })],
  ];
  for (const host of foreign(port)) {
    for (const [method, path, headers, body] of routes) {
      const origin = `http://${host}`;
      const r = await rawHttp(port, path, { method, headers: { ...headers, host, origin }, ...(body ? { body } : {}) });
      assert.equal(r.status, 421, `${method} ${path} Host ${host}`);
      assert.equal(r.error, 'HOST_REJECTED');
      assert.match(r.message!, /--allowed-hosts/);
      assert.equal(r.headers['set-cookie'], undefined, 'no session for a rebinding page');
    }
    assert.equal((await rawHttp(port, '/healthz', { headers: { host } })).status, 200, '/healthz answers any Host');
  }
  for (const host of known(port)) {
    assert.equal((await rawHttp(port, '/api/v1/devices', { headers: { host, authorization: viewer } })).status, 200, host);
  }
  const metrics = await rawHttp(port, '/metrics', { headers: { authorization: viewer } });
  assert.match(metrics.body, /fieldlink_errors_total\{door="http",code="HOST_REJECTED"\} [1-9]/, 'refusals are counted');
  await legit.flowing();
});

test('WebSocket: /ws, /ws/device and /mqtt refuse a browser\'s upgrade with a foreign Host; known names, and clients without Origin, upgrade', async () => {
  const port = s.hub.httpPort;
  for (const path of ['/ws', '/ws/device', '/mqtt', '/no-such-door']) {
    const proto: Record<string, string> = path === '/mqtt' ? { 'sec-websocket-protocol': 'mqtt' } : {};
    for (const host of foreign(port)) {
      const u = await rawUpgrade(port, path, { ...proto, host, origin: `http://${host}` });
      assert.equal(u.status, 421, `${path} Host ${host}`);
      assert.equal((JSON.parse(u.body) as { error: { name: string } }).error.name, 'HOST_REJECTED');
    }
    if (path === '/no-such-door') continue;
    // devices and scripts send no Origin (browsers always do): they may use any name
    for (const host of foreign(port)) {
      const u = await rawUpgrade(port, path, { ...proto, host });
      assert.equal(u.status, 101, `${path} Host ${host} without Origin`);
      u.socket.destroy();
    }
    for (const host of known(port)) {
      const u = await rawUpgrade(port, path, { ...proto, host, origin: `http://${host}` });
      assert.equal(u.status, 101, `${path} Host ${host}`);
      u.socket.destroy();
    }
  }
  await legit.flowing();
});

test('the out-of-the-box hub (loopback, anonymous admin): a rebinding page can neither command an actuator nor read', async () => {
  const hub: Hub = await startTestHub();
  try {
    const port = hub.httpPort;
    // an actuator on /ws/device, and the user's own dashboard on the real name
    const lamp = await RawClient.open(wsUrl(hub, '/ws/device'));
    assert.equal((await lamp.request('auth', { device: 'lamp' })).ok, true);
    const mine = await RawClient.open(wsUrl(hub, '/ws'));
    for (const host of foreign(port)) {
      const u = await rawUpgrade(port, '/ws', { host, origin: `http://${host}` });
      assert.equal(u.status, 421, host);
      // nothing gets through even if the page ignores the answer and writes a frame
      if (!u.socket.destroyed) u.socket.write(maskedFrame(0x1, Buffer.from(JSON.stringify({ op: 'pub', id: 'x', topic: 'devices/lamp/cmd/on', payload: { id: 'evil', params: {} } }))));
      u.socket.destroy();
      const page = await rawHttp(port, '/api/v1/session', { headers: { host, origin: `http://${host}` } });
      assert.equal(page.status, 421);
      assert.doesNotMatch(page.body, /admin/);
    }
    // the user's own dashboard (loopback name) still commands the lamp: it is the Host check that refused
    assert.equal((await mine.request('pub', { topic: 'devices/lamp/cmd/on', payload: { id: 'mine', params: {} } })).ok, true);
    await lamp.waitFor((f) => f.op === 'cmd' && f.id === 'mine');
    assert.ok(!lamp.frames.some((f) => f.op === 'cmd' && f.id === 'evil'), 'the rebinding command never arrived');
    mine.close();
    lamp.close();
  } finally {
    await hub.stop();
  }
  await legit.flowing();
});

test('a hub on 0.0.0.0 (a Raspberry Pi on a LAN) answers to every address of its interfaces, and to nothing else', async () => {
  const hub = await startTestHub({ host: '0.0.0.0', allowAnonymous: true, anonymous: 'none', mqttPort: 0 });
  try {
    const port = hub.httpPort;
    const addrs = Object.values(networkInterfaces()).flatMap((l) => (l ?? []).map((i) => (i.family === 'IPv6' ? `[${i.address.split('%')[0]}]` : i.address)));
    for (const a of addrs) {
      const r = await rawHttp(port, '/api/v1/session', { headers: { host: `${a}:${port}` } });
      assert.equal(r.error, 'UNAUTHENTICATED', `${a}: served (and asked to log in), not refused`);
      const u = await rawUpgrade(port, '/ws', { host: `${a}:${port}`, origin: `http://${a}:${port}` });
      assert.equal(u.status, 101, a);
      u.socket.destroy();
    }
    for (const host of foreign(port)) assert.equal((await rawHttp(port, '/api/v1/session', { headers: { host } })).error, 'HOST_REJECTED', host);
  } finally {
    await hub.stop();
  }
  await legit.flowing();
});

test('refusals tell the operator once per name what to set; many names do not flood the log', async () => {
  const lines: { msg?: string; host?: string }[] = [];
  const log = pino({ level: 'warn' }, { write: (l: string) => void lines.push(JSON.parse(l) as { msg?: string; host?: string }) });
  const hub = await startHub(testConfig({ trustedProxies: ['127.0.0.1'] }), log);
  try {
    const port = hub.httpPort;
    for (let i = 0; i < 3; i++) for (const host of ['pi.home.arpa', 'evil.example']) assert.equal((await rawHttp(port, '/', { headers: { host } })).status, 421);
    for (let i = 0; i < 300; i++) await rawHttp(port, '/', { headers: { host: `n${i}.evil.example` } });
    const warned = lines.filter((l) => /--allowed-hosts/.test(l.msg ?? ''));
    assert.deepEqual(warned.slice(0, 2).map((l) => l.host), ['pi.home.arpa', 'evil.example']);
    assert.equal(warned.length, 100, 'at most 100 names are logged; the rest are only counted');
    assert.equal(hub.security.errors['http:HOST_REJECTED'], 306);
    assert.ok(lines.some((l) => /--trusted-proxies is set but no identities exist/.test(l.msg ?? '')), 'a proxy setup without identities is flagged at start');
  } finally {
    await hub.stop();
  }
  await legit.flowing();
});
