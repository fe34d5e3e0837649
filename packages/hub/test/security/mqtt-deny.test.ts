/**
 * Issue #12 item 5: access rules may `deny` inside a wider `allow`. The file of
 * the issue works as is with --acl-file (SUBACK 0x80 for test/nosubscribe on
 * every MQTT door, FORBIDDEN on /ws); a filter that only overlaps a deny
 * (`test/#`, `#`) is accepted and the denied topic is never delivered through
 * it, live or retained, on MQTT and /ws; publish denies are acknowledged and
 * dropped. Legitimate traffic keeps flowing throughout.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { RawClient, mqttConnect, until, wsUrl } from '../helpers.js';
import { hashPassword } from '../../src/auth/secrets.js';
import { openIdentities } from '../../src/storage/index.js';
import { securedHub, type Secured } from './fixture.js';
import { mqttHub, type MqttHub } from './mqtt-doors.js';

const ISSUE_FILE = `- role: admin
  allow: [publish, subscribe, read, call, admin]
  topics: ["#"]
- role: admin
  deny: [subscribe]
  topics: ["test/nosubscribe"]
`;
// The defaults of docs/security.md, plus denies for operators and admins.
const WIDER_FILE = `- { role: device, allow: [publish], topics: ["devices/{id}/#"] }
- { role: device, allow: [subscribe], topics: ["devices/{id}/cmd/#"] }
- { role: viewer, allow: [subscribe, read], topics: ["#"] }
- { role: operator, allow: [subscribe, read, publish, call], topics: ["#"] }
- { role: admin, allow: [subscribe, read, publish, call, admin], topics: ["#"] }
- { role: admin, allow: [subscribe], topics: ["$SYS/#"] }
${ISSUE_FILE}- role: operator
  deny: [subscribe]
  topics: ["test/nosubscribe"]
- role: operator
  deny: [publish]
  topics: ["test/nopublish", "plant/valves/#"]
`;

const dir = mkdtempSync(join(tmpdir(), 'fl-deny-'));
const file = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name));
const ADMIN = { username: 'ada', password: 'admin-password-1' };
let exact: Secured;
let h: MqttHub;

before(async () => {
  exact = await securedHub({ aclFile: file('issue.yaml', ISSUE_FILE) });
  const ids = openIdentities({ url: exact.store });
  await ids.putUser({ name: ADMIN.username, passwordHash: await hashPassword(ADMIN.password), role: 'admin', createdAt: Date.now() });
  await ids.close();
  h = await mqttHub({ aclFile: file('wider.yaml', WIDER_FILE) });
});
after(async () => {
  await exact.stop();
  await h.stop();
});

const code = (c: MqttClient, f: string) => c.subscribeAsync(f, { qos: 1 }).then((g) => g[0]!.qos as number, (e: Error) => (/Unspecified error/.test(e.message) ? 128 : -1));

function collect(c: MqttClient): string[] {
  const got: string[] = [];
  c.on('message', (t) => got.push(t));
  return got;
}

test('the issue\'s rules file as is: SUBACK 0x80 for test/nosubscribe on TCP and /mqtt, other topics fine; mosquitto_sub is denied', async () => {
  const wsDoor = `${exact.hub.url.replace('http', 'ws')}/mqtt`;
  // legitimate traffic under this file: an admin browser and an admin publisher
  const browser = await RawClient.open(wsUrl(exact.hub, '/ws'));
  assert.equal((await browser.request('auth', { user: ADMIN.username, password: ADMIN.password })).ok, true);
  assert.equal((await browser.request('sub', { filter: 'devices/+/telemetry' })).ok, true);
  assert.equal((await browser.request('sub', { filter: 'test/nosubscribe' })).error?.name, 'FORBIDDEN', '/ws refuses it too');
  const publisher = await mqttConnect(`mqtt://127.0.0.1:${exact.hub.mqttPort}`, { ...ADMIN, clientId: 'ada-pub' });
  let n = 0;
  const flowing = async () => {
    const v = ++n;
    await publisher.publishAsync('devices/d1/telemetry', JSON.stringify({ lux: v }), { qos: 1 });
    await browser.waitFor((f) => f.op === 'msg' && (f.payload as { lux?: number }).lux === v);
  };
  for (const url of [`mqtt://127.0.0.1:${exact.hub.mqttPort}`, wsDoor]) {
    const c = await mqttConnect(url, { ...ADMIN, clientId: `ada-${url.slice(0, 4)}` });
    assert.equal(await code(c, 'test/nosubscribe'), 128, url);
    assert.equal(await code(c, 'test/other'), 1);
    assert.equal(await code(c, 'devices/#'), 1);
    await c.endAsync();
    await flowing();
  }
  const out = await new Promise<string>((resolve) => {
    const p = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(exact.hub.mqttPort), '-V', 'mqttv311', '-i', 'ada-mosq', '-u', ADMIN.username, '-P', ADMIN.password, '-t', 'test/nosubscribe', '-C', '1', '-W', '3']);
    let text = '';
    p.stdout.on('data', (d: Buffer) => (text += d.toString()));
    p.stderr.on('data', (d: Buffer) => (text += d.toString()));
    p.on('exit', () => resolve(text));
  });
  assert.match(out, /denied/i);
  await flowing();
  browser.close();
  await publisher.endAsync();
});

test('a filter overlapping a deny is accepted, and the denied topic never arrives through it (live or retained) on every MQTT door', async () => {
  const op = await h.connect(h.doors[0]!, { username: 'otto', password: h.s.passwords.otto, clientId: 'otto-pub' });
  await op.publishAsync('test/nosubscribe', 'retained-secret', { qos: 1, retain: true });
  await op.publishAsync('test/visible', 'retained-ok', { qos: 1, retain: true });
  for (const door of h.doors) {
    for (const who of [{ ...ADMIN_OF(h), clientId: `ada-${door.name}` }, { username: 'otto', password: h.s.passwords.otto, clientId: `otto-${door.name}` }]) {
      const c = await h.connect(door, who);
      const got = collect(c);
      assert.equal(await code(c, 'test/nosubscribe'), 128, `${door.name} ${who.username}`);
      assert.equal(await code(c, 'test/#'), 1);
      assert.equal(await code(c, '#'), 1);
      await until(() => got.includes('test/visible'), 5000, 'retained replay of allowed topics');
      await op.publishAsync('test/nosubscribe', 'live-secret', { qos: 1 });
      await op.publishAsync('test/after', 'live-ok', { qos: 1 });
      await until(() => got.includes('test/after'), 5000, 'live delivery of allowed topics');
      assert.ok(!got.includes('test/nosubscribe'), `${door.name} ${who.username}: the denied topic never arrived (${got.join(',')})`);
      await c.endAsync();
    }
    await h.legitFlowing();
  }
  // a viewer has no deny: it sees the topic (the deny is per role)
  const v = await h.connect(h.doors[0]!, { username: 'vera', password: h.s.passwords.vera, clientId: 'vera-deny' });
  const vGot = collect(v);
  await v.subscribeAsync('test/#', { qos: 1 });
  await until(() => vGot.includes('test/nosubscribe'), 5000, 'the viewer gets it');
  await v.endAsync();
  await op.publishAsync('test/nosubscribe', '', { qos: 1, retain: true });
  await op.publishAsync('test/visible', '', { qos: 1, retain: true });
  await op.endAsync();
  assert.match(await h.metrics(), /fieldlink_denied_total\{door="mqtt",action="deliver"\} [1-9]/);
});

test('/ws: the same filter is screened per message, retained replay included; the exact topic is FORBIDDEN', async () => {
  const op = await h.browser({ user: 'otto', password: h.s.passwords.otto });
  assert.equal((await op.request('pub', { topic: 'test/nosubscribe', payload: 'retained-secret', retain: true })).ok, true);
  assert.equal((await op.request('pub', { topic: 'test/visible', payload: 'retained-ok', retain: true })).ok, true);
  for (const auth of [{ user: ADMIN.username, password: ADMIN.password }, { user: 'otto', password: h.s.passwords.otto }]) {
    const b = await h.browser(auth);
    assert.equal((await b.request('sub', { filter: 'test/nosubscribe' })).error?.name, 'FORBIDDEN');
    const sub = await b.request('sub', { filter: 'test/#' });
    assert.equal((sub.result as { retained: number }).retained, 1, 'only the allowed retained topic was replayed');
    assert.equal((await b.request('sub', { filter: '#' })).ok, true);
    assert.equal((await op.request('pub', { topic: 'test/nosubscribe', payload: 'live-secret' })).ok, true);
    assert.equal((await op.request('pub', { topic: 'test/after', payload: 'live-ok' })).ok, true);
    await b.waitFor((f) => f.op === 'msg' && f.topic === 'test/after');
    assert.ok(!b.msgs('test/nosubscribe').length, `${auth.user}: the denied topic never arrived`);
    b.close();
  }
  assert.equal((await op.request('pub', { topic: 'test/nosubscribe', payload: '', retain: true })).ok, true);
  assert.equal((await op.request('pub', { topic: 'test/visible', payload: '', retain: true })).ok, true);
  op.close();
  await h.legitFlowing();
});

test('deny on publish: acknowledged and dropped on MQTT, FORBIDDEN on /ws; the rest of the grant still works', async () => {
  const watcher = await h.connect(h.doors[0]!, { ...ADMIN_OF(h), clientId: 'ada-watch' });
  const got = collect(watcher);
  await watcher.subscribeAsync('#', { qos: 1 });
  for (const door of h.doors) {
    const c = await h.connect(door, { username: 'otto', password: h.s.passwords.otto, clientId: `otto-p-${door.name}` });
    await c.publishAsync('test/nopublish', 'refused', { qos: 1 }); // PUBACK [MQTT-3.3.5-2]
    await c.publishAsync('plant/valves/3/open', 'refused', { qos: 1 });
    await c.publishAsync('plant/pumps/1/on', door.name, { qos: 1 });
    await until(() => got.includes('plant/pumps/1/on'), 5000, 'allowed publish delivered');
    assert.ok(!got.includes('test/nopublish') && !got.includes('plant/valves/3/open'), door.name);
    assert.ok(c.connected);
    await c.endAsync();
    got.length = 0;
  }
  const b = await h.browser({ token: h.s.tokens.operator });
  assert.equal((await b.request('pub', { topic: 'plant/valves/1/open', payload: 1 })).error?.name, 'FORBIDDEN');
  assert.equal((await b.request('pub', { topic: 'plant/pumps/1/on', payload: 1 })).ok, true);
  b.close();
  await watcher.endAsync();
  await h.legitFlowing();
});

/** The admin of the TLS hub (mqtt-doors.ts makes one). */
function ADMIN_OF(m: MqttHub) {
  return { username: m.admin.user, password: m.admin.password };
}
