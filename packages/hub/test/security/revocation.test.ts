/**
 * Revocation ends access now, across processes: the admin CLI runs as a
 * process of its own against the hub's SQLite store, and within a few seconds
 * (the 1 s poll of the identity change log) every live connection of the
 * revoked identity closes, on every door it used, and its sessions and
 * credentials stop working. A legitimate device (MQTT) and viewer (/ws) keep
 * working throughout, and connections of other identities stay open.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IClientOptions, MqttClient } from 'mqtt';
import { WebSocket } from 'ws';
import { runCert } from '../../src/cli/cert.js';
import { RawClient, mqttConnect, until, wsUrl } from '../helpers.js';
import { cli, securedHub, type Secured } from './fixture.js';

let s: Secured;
let legitDevice: MqttClient;
let legitBrowser: RawClient;
let n = 0;
const mqttUrl = () => `mqtt://127.0.0.1:${s.hub.mqttPort}`;
const mqttWsUrl = () => wsUrl(s.hub, '/mqtt');
const admin = async (args: string[], stdin?: string) => {
  const r = await cli([...args, '--store', s.store, '--json'], stdin);
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out) as Record<string, string>;
};
const WAIT = 10_000; // generous: the poll is 1 s, the bound is for a loaded machine

before(async () => {
  s = await securedHub({ publishRate: 1000 });
  legitDevice = await mqttConnect(mqttUrl(), { username: 'd1', password: s.secret.d1 });
  legitBrowser = await RawClient.open(wsUrl(s.hub, '/ws'));
  assert.equal((await legitBrowser.request('auth', { token: s.tokens.viewer })).ok, true);
  assert.equal((await legitBrowser.request('sub', { filter: 'devices/+/telemetry' })).ok, true);
});
after(async () => {
  legitBrowser.close();
  await legitDevice.endAsync();
  await s.stop();
});

/** The legitimate device publishes; the legitimate browser receives it; neither was closed. */
async function legitFlowing(): Promise<void> {
  const v = ++n;
  await legitDevice.publishAsync('devices/d1/telemetry', JSON.stringify({ lux: v }));
  await legitBrowser.waitFor((f) => f.op === 'msg' && (f.payload as { lux?: number }).lux === v, 5000);
  assert.equal(legitBrowser.closed, undefined);
  assert.equal(legitDevice.connected, true);
}

/** An MQTT client that records whether the hub closed it. */
async function mqttWatched(url: string, username: string, password: string, extra: IClientOptions = {}) {
  const c = await mqttConnect(url, { username, password, ...extra });
  const state = { client: c, closed: false };
  c.on('close', () => (state.closed = true));
  return state;
}

function connack(url: string, username: string, password: string): Promise<number> {
  return mqttConnect(url, { username, password }).then((c) => (c.end(true), 0), (e: Error & { code?: number }) => e.code ?? -1);
}

/** Let the hub read the change log once more, then check the connections given are still open. */
async function survivesPoll(...open: (() => boolean)[]): Promise<void> {
  await s.hub.revocations!.poll();
  await new Promise((r) => setTimeout(r, 50));
  for (const o of open) assert.equal(o(), true);
}

async function login(user: string, password: string): Promise<string> {
  const r = await fetch(`${s.hub.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, password }) });
  assert.equal(r.status, 200);
  return r.headers.get('set-cookie')!.split(';')[0]!;
}

/** A /ws socket opened with a cookie (as the dashboard does), and who the hub says it is. */
async function wsWithCookie(cookie: string): Promise<{ c: RawClient; who: string | undefined }> {
  const ws = new WebSocket(wsUrl(s.hub, '/ws'), { headers: { cookie } });
  await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
  const c = RawClient.wrap(ws);
  const r = await c.request('auth');
  return { c, who: (r.result as { identity?: { id: string } } | undefined)?.identity?.id };
}

const api = (cookieOrBearer: string) =>
  fetch(`${s.hub.url}/api/v1/devices`, { headers: cookieOrBearer.startsWith('flt_') ? { authorization: `Bearer ${cookieOrBearer}` } : { cookie: cookieOrBearer } }).then((r) => r.status);

test('token revoke (another process): /ws, MQTT TCP and /mqtt opened with it close within seconds; HTTP and new connections refuse it', async () => {
  const op = await admin(['token', 'create', '--role', 'operator', '--name', 'ops']);
  const dev = await admin(['token', 'create', '--role', 'device', '--device', 'd2', '--name', 'd2 board']);
  const browser = await RawClient.open(wsUrl(s.hub, '/ws'));
  assert.equal((await browser.request('auth', { token: op.token })).ok, true);
  assert.equal((await browser.request('sub', { filter: 'devices/#' })).ok, true);
  const tcp = await mqttWatched(mqttUrl(), 'token', op.token!);
  const overWs = await mqttWatched(mqttWsUrl(), 'token', op.token!);
  const board = await RawClient.open(wsUrl(s.hub, '/ws/device'));
  assert.equal((await board.request('auth', { device: 'd2', token: dev.token })).ok, true);
  // the same device with its own secret: another credential, untouched by revoking the token
  const d2 = await mqttWatched(mqttUrl(), 'd2', s.secret.d2);
  assert.equal(await api(op.token!), 200);
  await legitFlowing();

  assert.deepEqual(await admin(['token', 'revoke', op.id!]), { revoked: op.id });
  await until(() => browser.closed !== undefined && tcp.closed && overWs.closed, WAIT, 'connections of the revoked token close');
  assert.equal(browser.closed!.code, 4003);
  assert.equal(board.closed, undefined, 'a token not revoked keeps its connection');
  assert.equal(await api(op.token!), 401);
  assert.equal(await connack(mqttUrl(), 'token', op.token!), 4);
  const again = await RawClient.open(wsUrl(s.hub, '/ws'));
  assert.equal((await again.request('auth', { token: op.token })).error?.name, 'BAD_CREDENTIALS');
  again.close();

  await admin(['token', 'revoke', dev.id!]);
  await until(() => board.closed !== undefined, WAIT, 'the device door connection of the revoked device token closes');
  assert.equal(board.closed!.code, 4003);
  await survivesPoll(() => !d2.closed);
  assert.ok((s.hub.security.live.closed['ws:revoked'] ?? 0) >= 1 && (s.hub.security.live.closed['mqtt:revoked'] ?? 0) >= 2 && (s.hub.security.live.closed['ws_device:revoked'] ?? 0) >= 1, 'counted per door');
  await d2.client.endAsync();
  await legitFlowing();
});

test('user passwd and user remove (another process): the cookie stops working on HTTP and cannot open /ws; open /ws and MQTT sessions close', async () => {
  await admin(['user', 'add', 'ursula', '--role', 'operator', '--password-stdin'], 'first password 1\n');
  await admin(['user', 'add', 'uma', '--role', 'viewer', '--password-stdin'], 'uma password 1\n');
  const cookie = await login('ursula', 'first password 1');
  const umaCookie = await login('uma', 'uma password 1');
  assert.equal(await api(cookie), 200);
  const viaCookie = await wsWithCookie(cookie);
  assert.equal(viaCookie.who, 'ursula');
  const viaPassword = await RawClient.open(wsUrl(s.hub, '/ws'));
  assert.equal((await viaPassword.request('auth', { user: 'ursula', password: 'first password 1' })).ok, true);
  const tcp = await mqttWatched(mqttUrl(), 'ursula', 'first password 1');
  const overWs = await mqttWatched(mqttWsUrl(), 'ursula', 'first password 1');
  const uma = await wsWithCookie(umaCookie);

  await admin(['user', 'passwd', 'ursula', '--password-stdin'], 'second password 2\n');
  await until(() => viaCookie.c.closed !== undefined && viaPassword.closed !== undefined && tcp.closed && overWs.closed, WAIT, 'every connection of the re-passworded user closes');
  assert.deepEqual([viaCookie.c.closed!.code, viaPassword.closed!.code], [4003, 4003]);
  assert.equal(await api(cookie), 401, 'the old cookie no longer works on HTTP');
  const stale = await wsWithCookie(cookie);
  assert.equal(stale.who, undefined, 'nor does it open a /ws session');
  stale.c.close();
  assert.equal(await connack(mqttUrl(), 'ursula', 'first password 1'), 4);
  // the new password works, and its connections outlive the next polls
  const cookie2 = await login('ursula', 'second password 2');
  const fresh = await wsWithCookie(cookie2);
  assert.equal(fresh.who, 'ursula');
  const freshMqtt = await mqttWatched(mqttUrl(), 'ursula', 'second password 2');
  await survivesPoll(() => fresh.c.closed === undefined, () => !freshMqtt.closed, () => uma.c.closed === undefined);
  assert.equal(await api(umaCookie), 200, 'another user\'s session is untouched');
  await legitFlowing();

  await admin(['user', 'remove', 'ursula']);
  await until(() => fresh.c.closed !== undefined && freshMqtt.closed, WAIT, 'the removed user\'s connections close');
  assert.equal(fresh.c.closed!.code, 4003);
  assert.equal(await api(cookie2), 401);
  assert.equal((await wsWithCookie(cookie2)).who, undefined);
  assert.equal(await connack(mqttUrl(), 'ursula', 'second password 2'), 4);
  assert.equal(uma.c.closed, undefined);
  assert.ok(s.hub.security.sessions.counters.revoked >= 2);
  uma.c.close();
  await legitFlowing();
});

test('device rotate and device remove (another process): its MQTT TCP, /mqtt and /ws/device connections close; the old secret is refused', async () => {
  // A device has one MQTT connection at a time (its client id is its device id, docs/security.md), so each
  // MQTT transport gets its own rotation: TCP first, then /mqtt.
  const { secret } = await admin(['device', 'add', 'd3']);
  const tcp = await mqttWatched(mqttUrl(), 'd3', secret!);
  const door = await RawClient.open(wsUrl(s.hub, '/ws/device'));
  assert.equal((await door.request('auth', { device: 'd3', secret })).ok, true);
  await legitFlowing();

  const rotated = await admin(['device', 'rotate', 'd3']);
  await until(() => tcp.closed && door.closed !== undefined, WAIT, 'connections with the old secret close');
  assert.equal(door.closed!.code, 4003);
  assert.equal(await connack(mqttUrl(), 'd3', secret!), 4);
  const d = await RawClient.open(wsUrl(s.hub, '/ws/device'));
  assert.equal((await d.request('auth', { device: 'd3', secret })).error?.name, 'BAD_CREDENTIALS');
  assert.equal((await d.request('auth', { device: 'd3', secret: rotated.secret })).ok, true, 'the new secret works at once');
  const overWs = await mqttWatched(mqttWsUrl(), 'd3', rotated.secret!);
  await survivesPoll(() => d.closed === undefined, () => !overWs.closed);

  const again = await admin(['device', 'rotate', 'd3']);
  await until(() => overWs.closed && d.closed !== undefined, WAIT, '/mqtt and /ws/device connections with the second secret close');
  assert.equal(await connack(mqttWsUrl(), 'd3', rotated.secret!), 4);
  const fresh = await RawClient.open(wsUrl(s.hub, '/ws/device'));
  assert.equal((await fresh.request('auth', { device: 'd3', secret: again.secret })).ok, true);
  // a device token is another credential: a rotation leaves it alone, a removal ends it
  const tok = await admin(['token', 'create', '--role', 'device', '--device', 'd3']);
  const viaToken = await mqttWatched(mqttUrl(), 'token', tok.token!, { clientId: 'd3' });
  await survivesPoll(() => fresh.closed === undefined, () => !viaToken.closed);
  await legitFlowing();

  await admin(['device', 'remove', 'd3']);
  await until(() => fresh.closed !== undefined && viaToken.closed, WAIT, 'every connection of the removed device closes, its token\'s too');
  assert.equal(fresh.closed!.code, 4003);
  assert.equal(await connack(mqttUrl(), 'd3', again.secret!), 4);
  assert.equal(await connack(mqttUrl(), 'token', tok.token!), 4, 'removing a device revokes its tokens');
  await legitFlowing();
});

test('logging out closes the WebSockets opened with that session, not those of the same user\'s other sessions', async () => {
  const mine = await login('vera', s.passwords.vera);
  const theirs = await login('vera', s.passwords.vera);
  const a = await wsWithCookie(mine);
  const b = await wsWithCookie(theirs);
  assert.deepEqual([a.who, b.who], ['vera', 'vera']);
  const out = await fetch(`${s.hub.url}/api/v1/session`, { method: 'DELETE', headers: { cookie: mine } });
  assert.equal(out.status, 200);
  await until(() => a.c.closed !== undefined, WAIT, 'the logged-out session\'s socket closes');
  assert.equal(a.c.closed!.code, 4003);
  assert.equal(await api(mine), 401);
  await survivesPoll(() => b.c.closed === undefined);
  assert.equal(await api(theirs), 200);
  b.c.close();
  await legitFlowing();
});

test('a token that expires while connected is disconnected at its expiry', async () => {
  const { openIdentities } = await import('../../src/storage/index.js');
  const { makeToken } = await import('../../src/auth/secrets.js');
  const ids = openIdentities({ url: s.store });
  const t = makeToken('soonGone0001');
  await ids.putToken({ id: 'soonGone0001', hash: t.hash, name: 'short', role: 'viewer', subject: null, createdAt: Date.now(), expiresAt: Date.now() + 1500, revokedAt: null });
  await ids.close();
  const c = await RawClient.open(wsUrl(s.hub, '/ws'));
  assert.equal((await c.request('auth', { token: t.token })).ok, true);
  const m = await mqttWatched(mqttUrl(), 'token', t.token);
  await until(() => c.closed !== undefined && m.closed, WAIT, 'expired connections close');
  assert.equal(c.closed!.code, 4003);
  assert.ok((s.hub.security.live.closed['ws:expired'] ?? 0) >= 1);
  await legitFlowing();
});

test('a dashboard session has an absolute lifetime, however active (short --session-max-age-ms)', async () => {
  const short = await securedHub({ sessionMaxAgeMs: 1500, revocationPollMs: 100 });
  try {
    const r = await fetch(`${short.hub.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'vera', password: short.passwords.vera }) });
    const setCookie = r.headers.get('set-cookie')!;
    assert.match(setCookie, /Max-Age=1(;|$)/, 'the cookie says so too');
    const cookie = setCookie.split(';')[0]!;
    const ws = new WebSocket(wsUrl(short.hub, '/ws'), { headers: { cookie } });
    await new Promise((res) => ws.once('open', res));
    const c = RawClient.wrap(ws);
    const other = await RawClient.open(wsUrl(short.hub, '/ws'));
    assert.equal((await other.request('auth', { user: 'vera', password: short.passwords.vera })).ok, true);
    let ok = 0;
    // used all the time (the idle timeout would slide), and still it ends
    while ((await fetch(`${short.hub.url}/api/v1/devices`, { headers: { cookie } })).status === 200) {
      ok++;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.ok(ok >= 1);
    await until(() => c.closed !== undefined, WAIT, 'the /ws opened with the cookie closes at the session\'s end');
    assert.equal(c.closed!.code, 4003);
    assert.equal(other.closed, undefined, 'a password-authenticated socket has no session to outlive');
    other.close();
  } finally {
    await short.stop();
  }
  await legitFlowing();
});

test('MQTTS: rotating a device closes its secret connections over TLS; removing it closes its client-certificate connections too', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fl-revoke-tls-'));
  const log = console.log;
  console.log = () => undefined;
  await runCert(['dev', '--out', dir, '--hosts', 'localhost,127.0.0.1', '--device', 'cert-1']);
  console.log = log;
  const f = (name: string) => readFileSync(join(dir, name));
  const t = await securedHub({ tlsCert: join(dir, 'server.pem'), tlsKey: join(dir, 'server-key.pem'), tlsCa: join(dir, 'ca.pem'), tlsClientAuth: 'optional', mqttsPort: -1 });
  const run = async (args: string[]) => {
    const r = await cli([...args, '--store', t.store, '--json']);
    assert.equal(r.code, 0, r.err);
    return JSON.parse(r.out) as Record<string, string>;
  };
  const url = `mqtts://localhost:${t.hub.mqttsPort}`;
  try {
    const { secret } = await run(['device', 'add', 'd3']);
    await run(['device', 'add', 'cert-1']);
    const viaSecret = await mqttWatched(url, 'd3', secret!, { ca: f('ca.pem') });
    const viaCert = await mqttConnect(url, { clientId: 'cert-1', ca: f('ca.pem'), cert: f('device-cert-1.pem'), key: f('device-cert-1-key.pem') });
    let certClosed = false;
    viaCert.on('close', () => (certClosed = true));
    const other = await mqttConnect(url, { ca: f('ca.pem'), username: 'd2', password: t.secret.d2 });
    await run(['device', 'rotate', 'd3']);
    await until(() => viaSecret.closed, WAIT, 'the secret connection over TLS closes');
    await run(['device', 'rotate', 'cert-1']);
    await t.hub.revocations!.poll();
    assert.equal(certClosed, false, 'a new secret does not end a certificate connection');
    await run(['device', 'remove', 'cert-1']);
    await until(() => certClosed, WAIT, 'removing the device closes its certificate connection');
    assert.equal(other.connected, true);
    await other.endAsync();
  } finally {
    await t.stop();
  }
  await legitFlowing();
});
