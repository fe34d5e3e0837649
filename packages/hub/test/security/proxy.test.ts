/**
 * Behind a reverse proxy (issue #11 item 14). Every socket then comes from the
 * proxy's address; the hub believes the forwarding header only from
 * --trusted-proxies, keys connection limits and authentication backoff by the
 * client address it names, on every door that goes through HTTP (login, bearer
 * tokens, /ws, /ws/device, /mqtt), and never gives a proxied request the
 * loopback anonymous default. Last, the documented setup end to end through a
 * real proxy (test/reverse-proxy.ts, what the nginx example does). A legitimate
 * device and viewer keep working throughout.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { WebSocket } from 'ws';
import type { Hub } from '../../src/hub.js';
import { RawClient, mqttConnect, startTestHub, until, wsUrl } from '../helpers.js';
import { rawHttp } from '../raw-http.js';
import { rawUpgrade } from '../raw-ws.js';
import { startReverseProxy } from '../reverse-proxy.js';
import { nginxBinary, startNginx } from '../nginx.js';
import { requirePeers } from '../../../../test/e2e/peers.js';
import { legitTraffic, securedHub, type Secured } from './fixture.js';

let s: Secured;
let legit: Awaited<ReturnType<typeof legitTraffic>>;
const PER_IP = 8;

before(async () => {
  s = await securedHub({ trustedProxies: ['127.0.0.1'], authFreeFailures: 3, maxConnectionsPerIp: PER_IP });
  legit = await legitTraffic(s);
});
after(async () => {
  await legit.close();
  await s.stop();
});

const json = { 'content-type': 'application/json' };
const login = (password: string, headers: Record<string, string> = {}, localAddress?: string) =>
  rawHttp(s.hub.httpPort, '/api/v1/session', { method: 'POST', headers: { ...json, ...headers }, body: JSON.stringify({ user: 'otto', password }), ...(localAddress ? { localAddress } : {}) });

/** WebSocket `auth` attempts on one connection until RATE_LIMITED (or `n` tries); the reply names. */
async function wsGuesses(path: string, headers: Record<string, string>, frame: (i: number) => Record<string, unknown>, n = 8, localAddress?: string): Promise<string[]> {
  const c = await RawClient.open(wsUrl(s.hub, path), undefined, { headers, ...(localAddress ? { localAddress } : {}) });
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await c.request('auth', frame(i), 10_000);
    out.push(r.ok ? 'ok' : r.error!.name);
  }
  c.close();
  return out;
}

/** CONNACK return code over /mqtt with the given upgrade headers. */
function mqttWsConnack(opts: mqtt.IClientOptions, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const c = mqtt.connect(wsUrl(s.hub, '/mqtt'), { reconnectPeriod: 0, connectTimeout: 5000, wsOptions: { headers }, ...(opts.username ? { clientId: opts.username } : {}), ...opts });
    c.once('connect', () => (c.end(true), resolve(0)));
    c.once('error', (e: Error & { code?: number }) => (c.end(true), resolve(typeof e.code === 'number' ? e.code : -1)));
  });
}

test('anonymous default: a request carrying forwarding headers is never loopback (trusted proxy or not), on every door', async () => {
  for (const over of [{ trustedProxies: ['127.0.0.1'] }, {}]) {
    const hub: Hub = await startTestHub({ ...over, authTimeoutMs: 1000 });
    try {
      const port = hub.httpPort;
      const health = JSON.parse((await rawHttp(port, '/healthz')).body) as { security: { anonymous: string; anonymousThroughProxy: string | null } };
      assert.deepEqual([health.security.anonymous, health.security.anonymousThroughProxy], ['admin', null], '/healthz says what proxied clients get');
      const direct = await rawHttp(port, '/api/v1/session');
      assert.match(direct.body, /"role":"admin"/, 'a local client without headers: the out-of-the-box admin');
      const forwarding: Record<string, string>[] = [{ 'x-forwarded-for': '203.0.113.9' }, { 'x-forwarded-for': '127.0.0.1' }, { forwarded: 'for=203.0.113.9' }, { 'x-real-ip': '203.0.113.9' }, { 'x-forwarded-host': 'hub.example.com' }, { 'x-forwarded-proto': 'https' }];
      const nobodies: RawClient[] = [];
      for (const h of forwarding) {
        const what = `${JSON.stringify(over)} ${JSON.stringify(h)}`;
        const r = await rawHttp(port, '/api/v1/session', { headers: h });
        assert.equal(r.status, 401, what);
        assert.equal(r.error, 'UNAUTHENTICATED', what);
        assert.equal((await rawHttp(port, '/metrics', { headers: h })).error, 'UNAUTHENTICATED', what);
        // /ws: the connection opens but is nobody; its requests are refused and it is closed at the auth deadline
        const c = await RawClient.open(`ws://127.0.0.1:${port}/ws`, undefined, { headers: h });
        assert.equal((await c.request('auth')).error?.name, 'UNAUTHENTICATED', what);
        assert.equal((await c.request('pub', { topic: 'devices/lamp/cmd/on', payload: {} })).error?.name, 'UNAUTHENTICATED', what);
        // /ws/device: no anonymous device
        const d = await RawClient.open(`ws://127.0.0.1:${port}/ws/device`, undefined, { headers: h });
        assert.equal((await d.request('auth', { device: 'lamp' })).error?.name, 'UNAUTHENTICATED', what);
        d.close();
        // /mqtt: CONNACK 5, not authorized
        const code = await new Promise<number>((resolve) => {
          const m = mqtt.connect(`ws://127.0.0.1:${port}/mqtt`, { reconnectPeriod: 0, connectTimeout: 5000, wsOptions: { headers: h } });
          m.once('connect', () => (m.end(true), resolve(0)));
          m.once('error', (e: Error & { code?: number }) => (m.end(true), resolve(typeof e.code === 'number' ? e.code : -1)));
        });
        assert.equal(code, 5, what);
        nobodies.push(c);
      }
      await until(() => nobodies.every((c) => c.closed !== undefined), 5000, 'auth deadline');
      assert.deepEqual(nobodies.map((c) => c.closed!.code), nobodies.map(() => 4001));
      // a local client without headers still is admin on every door
      const c = await RawClient.open(`ws://127.0.0.1:${port}/ws`);
      assert.equal(((await c.request('auth')).result as { identity: { role: string } }).identity.role, 'admin');
      c.close();
    } finally {
      await hub.stop();
    }
  }
  // --allow-anonymous is the operator saying "anonymous from the network too": then proxied clients get it
  const open = await startTestHub({ trustedProxies: ['127.0.0.1'], allowAnonymous: true, anonymous: 'viewer' });
  try {
    assert.match((await rawHttp(open.httpPort, '/api/v1/session', { headers: { 'x-forwarded-for': '203.0.113.9' } })).body, /"role":"viewer"/);
  } finally {
    await open.stop();
  }
  await legit.flowing();
});

test('through a trusted proxy, authentication backoff is per forwarded client on every door; spoofing from elsewhere gains nothing', async () => {
  const xff = (a: string) => ({ 'x-forwarded-for': a });
  // HTTP login
  const guesses: number[] = [];
  for (let i = 0; i < 8; i++) guesses.push((await login(`guess-${i}`, xff('198.51.100.10'))).status);
  assert.ok(guesses.includes(429), guesses.join(','));
  assert.equal((await login(s.passwords.otto, xff('198.51.100.10'))).status, 429, 'the attacker waits, even with the right password');
  assert.equal((await login(s.passwords.otto, xff('6.6.6.6, 198.51.100.10'))).status, 429, 'a client-written hop to the left changes nothing');
  assert.equal((await login(s.passwords.otto, xff('198.51.100.11'))).status, 200, 'another client through the same proxy logs in');
  assert.equal((await login(s.passwords.otto)).status, 200, 'and so does the proxy host itself');
  // bearer tokens on the HTTP API
  const bearer: number[] = [];
  for (let i = 0; i < 8; i++) bearer.push((await rawHttp(s.hub.httpPort, '/api/v1/devices', { headers: { ...xff('198.51.100.50'), authorization: `Bearer flt_nobody01_${i}${'x'.repeat(42)}` } })).status);
  assert.ok(bearer.includes(429), bearer.join(','));
  assert.equal((await rawHttp(s.hub.httpPort, '/api/v1/devices', { headers: { ...xff('198.51.100.51'), authorization: `Bearer ${s.tokens.viewer}` } })).status, 200);
  // /ws
  const ws = await wsGuesses('/ws', xff('198.51.100.20'), (i) => ({ user: 'otto', password: `guess-${i}` }));
  assert.ok(ws.includes('RATE_LIMITED'), ws.join(','));
  assert.deepEqual(await wsGuesses('/ws', xff('198.51.100.21'), () => ({ user: 'otto', password: s.passwords.otto }), 1), ['ok']);
  // /ws/device
  const dev = await wsGuesses('/ws/device', xff('198.51.100.30'), (i) => ({ device: 'd2', secret: `wrong-${i}` }));
  assert.ok(dev.includes('RATE_LIMITED'), dev.join(','));
  assert.deepEqual(await wsGuesses('/ws/device', xff('198.51.100.31'), () => ({ device: 'd2', secret: s.secret.d2 }), 1), ['ok']);
  // /mqtt: CONNACK 4 (bad credentials), then 5 (rate limited)
  const codes: number[] = [];
  for (let i = 0; i < 8; i++) codes.push(await mqttWsConnack({ username: 'd2', password: `wrong-${i}` }, xff('198.51.100.40')));
  assert.ok(codes.includes(5), codes.join(','));
  assert.equal(await mqttWsConnack({ username: 'd2', password: s.secret.d2 }, xff('198.51.100.41')), 0);
  // an untrusted peer (127.0.0.3) rotating X-Forwarded-For is keyed by its own address: every guess counts
  const spoofed: number[] = [];
  for (let i = 0; i < 8; i++) spoofed.push((await login(`guess-${i}`, xff(`203.0.113.${i + 1}`), '127.0.0.3')).status);
  assert.ok(spoofed.includes(429), spoofed.join(','));
  await legit.flowing();
});

test('through a trusted proxy, the per-IP connection limit counts each forwarded client; an untrusted peer cannot escape it', async () => {
  const open: { socket: { destroy(): void } }[] = [];
  try {
    for (let i = 0; i < PER_IP; i++) {
      const u = await rawUpgrade(s.hub.httpPort, i % 2 ? '/ws' : '/ws/device', { 'x-forwarded-for': '198.51.100.60' });
      assert.equal(u.status, 101, `connection ${i + 1}`);
      open.push(u);
    }
    const over = await rawUpgrade(s.hub.httpPort, '/ws', { 'x-forwarded-for': '198.51.100.60' });
    assert.equal(over.status, 503);
    assert.equal((JSON.parse(over.body) as { error: { name: string } }).error.name, 'OVERLOADED');
    const other = await rawUpgrade(s.hub.httpPort, '/mqtt', { 'x-forwarded-for': '198.51.100.61', 'sec-websocket-protocol': 'mqtt' });
    assert.equal(other.status, 101, 'another client through the same proxy connects');
    open.push(other);
    for (let i = 0; i < PER_IP; i++) {
      const u = await rawUpgrade(s.hub.httpPort, '/ws', { 'x-forwarded-for': `203.0.113.${i + 1}` }, '127.0.0.4');
      assert.equal(u.status, 101);
      open.push(u);
    }
    const spoof = await rawUpgrade(s.hub.httpPort, '/ws', { 'x-forwarded-for': '203.0.113.99' }, '127.0.0.4');
    assert.equal(spoof.status, 503, 'an untrusted peer is counted by its own address, whatever it forwards');
    await legit.flowing();
  } finally {
    for (const u of open) u.socket.destroy();
  }
  await until(() => s.hub.security.connections.count <= 3, 5000, 'connections released');
});

test('the documented reverse-proxy setup end to end: viewer, device and login through a real proxy; per-client backoff; no anonymous admin', async () => {
  const proxy = await startReverseProxy(s.hub.httpPort);
  try {
    const via = (path: string) => `ws://127.0.0.1:${proxy.port}${path}`;
    // a viewer and a device through the proxy, each a different client address
    const viewer = await RawClient.open(via('/ws'), undefined, { localAddress: '127.0.0.5', headers: { origin: proxy.url } });
    assert.equal((await viewer.request('auth', { token: s.tokens.viewer })).ok, true);
    assert.equal((await viewer.request('sub', { filter: 'devices/+/telemetry' })).ok, true);
    const device = await mqttConnect(via('/mqtt'), { username: 'd2', password: s.secret.d2, wsOptions: { localAddress: '127.0.0.6' } });
    await device.publishAsync('devices/d2/telemetry', JSON.stringify({ lux: 4242 }), { qos: 1 });
    await viewer.waitFor((f) => f.op === 'msg' && (f.payload as { lux?: number }).lux === 4242);
    await device.endAsync();
    const board = await RawClient.open(via('/ws/device'), undefined, { localAddress: '127.0.0.6' });
    assert.equal((await board.request('auth', { device: 'd2', secret: s.secret.d2 })).ok, true);
    assert.equal((await board.request('telemetry', { data: { lux: 4343 } })).ok, true);
    await viewer.waitFor((f) => f.op === 'msg' && (f.payload as { lux?: number }).lux === 4343);
    board.close();
    // the dashboard page and a cross-origin upgrade through the proxy
    assert.equal((await rawHttp(proxy.port, '/')).status, 200);
    assert.equal((await rawUpgrade(proxy.port, '/ws', { origin: 'http://evil.example' })).status, 403);
    assert.equal((await rawUpgrade(proxy.port, '/ws', { host: `evil.example:${proxy.port}`, origin: `http://evil.example:${proxy.port}` })).status, 421, 'the proxy passes Host: rebinding is refused too');
    // nobody through the proxy is anonymous, and the hub sees each client's own address
    assert.equal((await rawHttp(proxy.port, '/api/v1/devices')).status, 401);
    const attempts: number[] = [];
    for (let i = 0; i < 8; i++) {
      // the attacker also writes its own X-Forwarded-For: the proxy appends the real address, which is what counts
      attempts.push((await rawHttp(proxy.port, '/api/v1/session', { method: 'POST', headers: { ...json, 'x-forwarded-for': `9.9.9.${i}` }, body: JSON.stringify({ user: 'vera', password: `guess-${i}` }), localAddress: '127.0.0.7' })).status);
    }
    assert.ok(attempts.includes(429), attempts.join(','));
    const ok = await rawHttp(proxy.port, '/api/v1/session', { method: 'POST', headers: json, body: JSON.stringify({ user: 'vera', password: s.passwords.vera }), localAddress: '127.0.0.8' });
    assert.equal(ok.status, 200, 'a neighbour behind the same proxy logs in');
    const sid = String(ok.headers['set-cookie']).split(';')[0]!;
    const cookieWs = new WebSocket(via('/ws'), { headers: { cookie: sid, origin: proxy.url }, localAddress: '127.0.0.8' });
    const who = await new Promise<{ result: { identity: { id: string } } }>((resolve, reject) => {
      cookieWs.once('open', () => cookieWs.send(JSON.stringify({ op: 'auth', id: '1' })));
      cookieWs.once('message', (d) => resolve(JSON.parse(d.toString()) as never));
      cookieWs.once('error', reject);
    });
    assert.equal(who.result.identity.id, 'vera', 'the session cookie works through the proxy, on HTTP and /ws');
    cookieWs.close();
    viewer.close();
    assert.ok(proxy.forwarded >= 15, `${proxy.forwarded} requests went through the proxy`);
  } finally {
    await proxy.close();
  }
  // with X-Forwarded-Proto: https from the trusted proxy (TLS terminated there), the cookie is Secure
  const tlsLogin = await rawHttp(s.hub.httpPort, '/api/v1/session', { method: 'POST', headers: { ...json, 'x-forwarded-for': '198.51.100.70', 'x-forwarded-proto': 'https' }, body: JSON.stringify({ user: 'otto', password: s.passwords.otto }) });
  assert.match(String(tlsLogin.headers['set-cookie']), /; Secure/);
  await legit.flowing();
});

test('nginx with the location block of docs/deployment.md: viewer, device, login, per-client backoff, no anonymous, Host checked', async () => {
  requirePeers(['nginx']); // fails with what to do; never skips
  const ng = await startNginx(nginxBinary()!, s.hub.httpPort);
  try {
    const via = (path: string) => `ws://127.0.0.1:${ng.port}${path}`;
    const viewer = await RawClient.open(via('/ws'), undefined, { localAddress: '127.0.0.11', headers: { origin: ng.url } });
    assert.equal((await viewer.request('auth', { token: s.tokens.viewer })).ok, true);
    assert.equal((await viewer.request('sub', { filter: 'devices/+/telemetry' })).ok, true);
    const device = await mqttConnect(via('/mqtt'), { username: 'd2', password: s.secret.d2, wsOptions: { localAddress: '127.0.0.12' } });
    await device.publishAsync('devices/d2/telemetry', JSON.stringify({ lux: 5151 }), { qos: 1 });
    await viewer.waitFor((f) => f.op === 'msg' && (f.payload as { lux?: number }).lux === 5151);
    await device.endAsync();
    assert.equal((await rawHttp(ng.port, '/api/v1/devices')).status, 401, 'nobody through nginx is anonymous');
    assert.equal((await rawHttp(ng.port, '/api/v1/devices', { headers: { host: 'evil.example' } })).status, 421);
    assert.equal((await rawUpgrade(ng.port, '/ws', { origin: 'http://evil.example' })).status, 403);
    const attempts: number[] = [];
    for (let i = 0; i < 8; i++) {
      attempts.push((await rawHttp(ng.port, '/api/v1/session', { method: 'POST', headers: { ...json, 'x-forwarded-for': `9.9.9.${i}` }, body: JSON.stringify({ user: 'otto', password: `guess-${i}` }), localAddress: '127.0.0.13' })).status);
    }
    assert.ok(attempts.includes(429), attempts.join(','));
    const ok = await rawHttp(ng.port, '/api/v1/session', { method: 'POST', headers: json, body: JSON.stringify({ user: 'otto', password: s.passwords.otto }), localAddress: '127.0.0.14' });
    assert.equal(ok.status, 200, 'a neighbour behind nginx logs in');
    viewer.close();
  } finally {
    await ng.stop();
  }
  await legit.flowing();
});
