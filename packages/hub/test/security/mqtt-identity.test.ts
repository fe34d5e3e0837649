/**
 * Issue #11 item 1: one identity must never act as another through its MQTT
 * client id. d2 ("dev-a", with its own valid secret) tries d3's ("dev-b") client
 * id on every MQTT door, online and offline, while d3 has a QoS 1 command with
 * parameters queued; users and tokens try to squat device ids and each other's
 * sessions; $SYS is shown to administrators only. The legitimate device d1 and
 * a viewer on /ws keep working throughout.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MqttClient } from 'mqtt';
import { RawClient, until, wsUrl } from '../helpers.js';
import { mqttHub, type MqttHub } from './mqtt-doors.js';

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
let h: MqttHub;
let d3Secret: string;
const cmd = (id: string) => JSON.stringify({ id, params: { pin: '4711' } });

before(async () => {
  h = await mqttHub();
  d3Secret = await h.addDevice('d3');
});
after(() => h.stop());

const asD2 = { username: 'd2', get password() { return h.s.secret.d2; } };
const asD3 = () => ({ username: 'd3', password: d3Secret, clientId: 'd3' });

function received(c: MqttClient): { topic: string; payload: string }[] {
  const got: { topic: string; payload: string }[] = [];
  c.on('message', (topic, payload) => got.push({ topic, payload: payload.toString() }));
  return got;
}

test('online: another device\'s client id is refused on every door, repeatedly, and the owner stays connected', async () => {
  for (const home of h.doors) {
    const victim = await h.connect(home, asD3());
    let kicked = 0;
    victim.on('close', () => kicked++);
    await victim.subscribeAsync('devices/d3/cmd/#', { qos: 1 });
    const got = received(victim);
    for (const door of h.doors) {
      for (let i = 0; i < 3; i++) assert.equal(await h.connack(door, { ...asD2, clientId: 'd3' }), 2, `${door.name}: identifier rejected`);
      assert.equal(await h.connack(door, { username: 'token', password: h.s.tokens.device, clientId: 'd3' }), 2, `${door.name}: d1's device token as d3`);
      assert.equal(await h.connack(door, { username: 'vera', password: h.s.passwords.vera, clientId: 'd3' }), 2, `${door.name}: a user squatting a device id`);
      assert.equal(await h.connack(door, { username: 'token', password: h.s.tokens.operator, clientId: 'd3' }), 2, `${door.name}: a token squatting a device id`);
      assert.equal(await h.connack(door, { ...asD2, clientId: 'not-d2' }), 2, `${door.name}: a device must use its own id`);
    }
    const operator = await h.browser({ token: h.s.tokens.operator });
    assert.equal((await operator.request('pub', { topic: 'devices/d3/cmd/unlock', payload: JSON.parse(cmd(`on-${home.name}`)) as object, qos: 1 })).ok, true);
    await until(() => got.some((m) => m.payload.includes(`on-${home.name}`)), 5000, 'the owner still gets its commands');
    assert.equal(kicked, 0, `${home.name}: d3 was never disconnected`);
    operator.close();
    await victim.endAsync();
    await h.legitFlowing();
  }
  assert.match(await h.metrics(), /fieldlink_mqtt_client_id_refused_total\{reason="not_device_id"\} [1-9]/);
  assert.match(await h.metrics(), /fieldlink_mqtt_client_id_refused_total\{reason="reserved"\} [1-9]/);
});

test('a device on /ws/device keeps its id: MQTT CONNECTs with its client id are refused and it is never replaced', async () => {
  const victim = await RawClient.open(wsUrl(h.s.hub, '/ws/device'), undefined, { ca: h.ca });
  assert.equal((await victim.request('auth', { device: 'd3', secret: d3Secret })).ok, true);
  for (const door of h.doors) {
    assert.equal(await h.connack(door, { ...asD2, clientId: 'd3' }), 2, door.name);
    assert.equal(await h.connack(door, { username: 'otto', password: h.s.passwords.otto, clientId: 'd3' }), 2, door.name);
  }
  assert.equal((await victim.request('telemetry', { data: { lux: 9 } })).ok, true);
  assert.equal(victim.closed, undefined, 'not replaced (4009)');
  victim.close();
  await h.legitFlowing();
});

test('offline: a queued QoS 1 command with parameters goes to its owner only, never to an identity resuming its session', async () => {
  for (const door of h.doors) {
    const first = await h.connect(door, { ...asD3(), clean: false });
    await first.subscribeAsync('devices/d3/cmd/#', { qos: 1 });
    await first.endAsync();
    const operator = await h.browser({ token: h.s.tokens.operator });
    const id = `queued-${door.name}`;
    assert.equal((await operator.request('pub', { topic: 'devices/d3/cmd/unlock', payload: JSON.parse(cmd(id)) as object, qos: 1 })).ok, true);
    operator.close();
    for (const d of h.doors) {
      assert.equal(await h.connack(d, { ...asD2, clientId: 'd3', clean: false }), 2, `${d.name}: d2 cannot resume d3's session`);
      assert.equal(await h.connack(d, { username: 'otto', password: h.s.passwords.otto, clientId: 'd3', clean: false }), 2, `${d.name}: nor can an operator`);
      assert.equal(await h.connack(d, { username: 'token', password: h.s.tokens.viewer, clientId: 'd3', clean: true }), 2, `${d.name}: nor wipe it with clean=true`);
    }
    // the owner comes back and gets exactly its queued command, parameters included
    const back = await h.connect(door, { ...asD3(), clean: false });
    const got = h.inbox(back); // from CONNACK on: queued messages may come in the same write
    await until(() => got.length > 0, 5000, 'queued command delivered to its owner');
    assert.deepEqual(JSON.parse(got[0]!.payload), { id, params: { pin: '4711' } });
    await back.endAsync();
    const wipe = await h.connect(door, { ...asD3(), clean: true }); // end the stored session for the next door
    await wipe.endAsync();
    await h.legitFlowing();
  }
});

test('users and tokens own their sessions: no squatting a stored or a live one', async () => {
  const door = h.doors[0]!;
  const vera = { username: 'vera', password: h.s.passwords.vera, clientId: 'vera-laptop' };
  const kept = await h.connect(door, { ...vera, clean: false });
  await kept.subscribeAsync('lab/#', { qos: 1 });
  await kept.endAsync();
  for (const d of h.doors) {
    assert.equal(await h.connack(d, { username: 'otto', password: h.s.passwords.otto, clientId: 'vera-laptop', clean: false }), 2, `${d.name}: stored session of another user`);
    assert.equal(await h.connack(d, { username: 'token', password: h.s.tokens.viewer, clientId: 'vera-laptop' }), 2, `${d.name}: a token is another identity`);
  }
  const resumed = await h.connect(door, { ...vera, clean: false });
  assert.equal(h.sessionPresent(resumed), true, 'the owner resumes its stored session');
  await resumed.endAsync();
  const otto = await h.connect(h.doors[1]!, { username: 'otto', password: h.s.passwords.otto, clientId: 'otto-console' });
  let ottoClosed = 0;
  otto.on('close', () => ottoClosed++);
  assert.equal(await h.connack(h.doors[2]!, { ...vera, clientId: 'otto-console' }), 2, 'a live session of another user');
  assert.equal(await h.connack(h.doors[0]!, { username: 'd2', password: h.s.secret.d2, clientId: 'otto-console' }), 2);
  await otto.publishAsync('lab/still-here', 'x', { qos: 1 });
  assert.equal(ottoClosed, 0);
  await otto.endAsync();
  // the same identity taking its own session over is ordinary MQTT [MQTT-3.1.4-2]
  const again = await h.connect(door, { ...vera, clean: true });
  await again.endAsync();
  await h.legitFlowing();
});

test('mosquitto_pub with another device\'s client id is refused; with its own it publishes', async () => {
  const run = (args: string[]) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(h.s.hub.mqttPort), '-V', 'mqttv311', '-q', '1', ...args]);
      let out = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr.on('data', (d: Buffer) => (out += d.toString()));
      p.on('exit', (code) => resolve({ code, out }));
    });
  const bad = await run(['-i', 'd1', '-u', 'd2', '-P', h.s.secret.d2, '-t', 'devices/d2/telemetry', '-m', '{"lux":1}']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.out, /identifier rejected/i);
  const noId = await run(['-u', 'd2', '-P', h.s.secret.d2, '-t', 'devices/d2/telemetry', '-m', '{"lux":1}']);
  assert.notEqual(noId.code, 0, 'a device without -i gets a random client id: refused');
  const good = await run(['-i', 'd2', '-u', 'd2', '-P', h.s.secret.d2, '-t', 'devices/d2/telemetry', '-m', '{"lux":2}']);
  assert.equal(good.code, 0, good.out);
  await h.legitFlowing();
});

test('Python paho: another device\'s client id gets return code 2; its own connects', async () => {
  const script = fileURLToPath(new URL('../fixtures/paho_connack.py', import.meta.url));
  const rc = (clientId: string) =>
    new Promise<string>((resolve) => {
      const p = spawn(PYTHON, [script, '127.0.0.1', String(h.s.hub.mqttPort), clientId, 'd2', h.s.secret.d2]);
      let out = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr.on('data', (d: Buffer) => (out += d.toString()));
      p.on('exit', () => resolve(out.trim()));
    });
  assert.equal(await rc('d1'), '2');
  assert.equal(await rc('d3'), '2');
  assert.equal(await rc('d2'), '0');
  await h.legitFlowing();
});

test('a device certificate (CN) is a device identity like any other: its client id is its CN', async () => {
  const door = { ...h.doors[1]!, opts: { ca: h.ca, cert: h.cert('certdev'), key: h.key('certdev') } };
  assert.equal(await h.connack(door, { clientId: 'd3' }), 2, 'a certificate for certdev cannot take d3');
  assert.equal(await h.connack(door, { clientId: 'd1' }), 2, 'nor the legitimate device');
  const own = await h.connect(door, { clientId: 'certdev' });
  await own.publishAsync('devices/certdev/telemetry', '{"lux":4}', { qos: 1 });
  await own.endAsync();
  await h.legitFlowing();
});

test('$SYS is for administrators: viewers and operators cannot subscribe to it or see it through #', async () => {
  for (const door of h.doors) {
    const viewer = await h.connect(door, { username: 'vera', password: h.s.passwords.vera, clientId: `vera-${door.name}` });
    const seen = received(viewer);
    const code = (c: MqttClient, f: string) => c.subscribeAsync(f).then((g) => g[0]!.qos as number, (e: Error) => (/Unspecified error/.test(e.message) ? 128 : -1));
    assert.equal(await code(viewer, '$SYS/#'), 128, `${door.name}: viewer $SYS/#`);
    assert.equal(await code(viewer, '$SYS/+/new/clients'), 128);
    assert.equal(await code(viewer, '#'), 0);
    const otto = await h.connect(door, { username: 'otto', password: h.s.passwords.otto, clientId: `otto-${door.name}` });
    assert.equal(await code(otto, '$SYS/#'), 128, `${door.name}: operator $SYS/#`);
    const admin = await h.connect(door, { username: h.admin.user, password: h.admin.password, clientId: `ada-${door.name}` });
    const adminSeen = received(admin);
    assert.equal(await code(admin, '$SYS/#'), 0, `${door.name}: admin $SYS/#`);
    const probe = await h.connect(door, { username: 'd2', password: h.s.secret.d2, clientId: 'd2' });
    await until(() => adminSeen.some((m) => m.topic.endsWith('/new/clients') && m.payload === 'd2'), 5000, 'admin sees client ids');
    await probe.publishAsync('devices/d2/telemetry', '{"lux":3}', { qos: 1 });
    await until(() => seen.some((m) => m.topic === 'devices/d2/telemetry'), 5000, 'viewer gets ordinary traffic through #');
    assert.ok(!seen.some((m) => m.topic.startsWith('$')), `${door.name}: the viewer saw no $SYS message: ${seen.filter((m) => m.topic.startsWith('$')).map((m) => m.topic).join(',')}`);
    for (const c of [viewer, otto, admin, probe]) await c.endAsync();
  }
  const b = await h.browser({ user: 'vera', password: h.s.passwords.vera });
  assert.equal((await b.request('sub', { filter: '$SYS/#' })).error?.name, 'FORBIDDEN', '/ws viewer');
  b.close();
  await h.legitFlowing();
});
