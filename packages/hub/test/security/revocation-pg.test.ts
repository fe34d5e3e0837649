/**
 * Revocation across hubs: two hubs on one PostgreSQL schema, the admin CLI as a
 * third process against the same store. A revoke or removal closes the
 * identity's connections on both hubs within seconds; each hub's legitimate
 * device and viewer keep working throughout.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { MqttClient } from 'mqtt';
import type { Hub } from '../../src/hub.js';
import { RawClient, mqttConnect, startTestHub, until, wsUrl } from '../helpers.js';
import { PG_URL, dropSchema, randomSchema, requirePostgres } from '../storage/pg-harness.js';
import { cli } from './fixture.js';

const WAIT = 10_000;

describe('revocation across hubs sharing a PostgreSQL store', () => {
  let schema: string;
  let store: string;
  let hubs: Hub[] = [];
  const legit: { device: MqttClient; viewer: RawClient }[] = [];
  let n = 0;
  const admin = async (...args: string[]) => {
    const r = await cli([...args, '--store', store, '--json']);
    assert.equal(r.code, 0, r.err);
    return JSON.parse(r.out) as Record<string, string>;
  };
  const mqttUrl = (h: Hub) => `mqtt://127.0.0.1:${h.mqttPort}`;

  before(async () => {
    await requirePostgres(); // fails with what to do; never skips
    schema = randomSchema();
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`CREATE SCHEMA "${schema}"`);
    await c.end();
    store = `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    hubs = await Promise.all([startTestHub({ store, anonymous: 'none' }), startTestHub({ store, anonymous: 'none' })]);
    const d1 = await admin('device', 'add', 'd1');
    const viewer = await admin('token', 'create', '--role', 'viewer');
    for (const h of hubs) {
      const v = await RawClient.open(wsUrl(h, '/ws'));
      assert.equal((await v.request('auth', { token: viewer.token })).ok, true);
      assert.equal((await v.request('sub', { filter: 'devices/d1/telemetry' })).ok, true);
      legit.push({ device: await mqttConnect(mqttUrl(h), { username: 'd1', password: d1.secret }), viewer: v });
    }
  });

  after(async () => {
    for (const l of legit) {
      l.viewer.close();
      await l.device.endAsync();
    }
    await Promise.all(hubs.map((h) => h.stop()));
    if (schema) await dropSchema(schema);
  });

  /** On every hub, the legitimate device publishes and the legitimate viewer receives it. */
  const legitFlowing = async () => {
    for (const l of legit) {
      const v = ++n;
      await l.device.publishAsync('devices/d1/telemetry', JSON.stringify({ lux: v }));
      await l.viewer.waitFor((f) => f.op === 'msg' && (f.payload as { lux?: number }).lux === v, 5000);
      assert.equal(l.viewer.closed, undefined);
    }
  };

  it('token revoke and device remove via the CLI close the connections on both hubs', async () => {
    const [a, b] = hubs as [Hub, Hub];
    const op = await admin('token', 'create', '--role', 'operator');
    const dev = await admin('device', 'add', 'd9');
    const onA = await RawClient.open(wsUrl(a, '/ws'));
    const onB = await RawClient.open(wsUrl(b, '/ws'));
    for (const c of [onA, onB]) assert.equal((await c.request('auth', { token: op.token })).ok, true);
    const mqttB = await mqttConnect(mqttUrl(b), { username: 'token', password: op.token });
    let mqttBClosed = false;
    mqttB.on('close', () => (mqttBClosed = true));
    const d9a = await mqttConnect(mqttUrl(a), { username: 'd9', password: dev.secret });
    let d9aClosed = false;
    d9a.on('close', () => (d9aClosed = true));
    const d9b = await RawClient.open(wsUrl(b, '/ws/device'));
    assert.equal((await d9b.request('auth', { device: 'd9', secret: dev.secret })).ok, true);
    await legitFlowing();

    await admin('token', 'revoke', op.id!);
    await until(() => onA.closed !== undefined && onB.closed !== undefined && mqttBClosed, WAIT, 'the token\'s connections close on both hubs');
    assert.deepEqual([onA.closed!.code, onB.closed!.code], [4003, 4003]);
    assert.equal((await fetch(`${a.url}/api/v1/devices`, { headers: { authorization: `Bearer ${op.token}` } })).status, 401);
    assert.equal(d9b.closed, undefined, 'other identities stay connected');
    await legitFlowing();

    await admin('device', 'remove', 'd9');
    await until(() => d9aClosed && d9b.closed !== undefined, WAIT, 'the removed device\'s connections close on both hubs');
    assert.equal(d9b.closed!.code, 4003);
    await assert.rejects(mqttConnect(mqttUrl(b), { username: 'd9', password: dev.secret }), /Bad username or password/);
    for (const h of hubs) assert.ok(h.revocations!.stats.events >= 2 && h.revocations!.stats.pollErrors === 0);
    await legitFlowing();
  });

  it('user passwd via the CLI closes the user\'s /ws on one hub, MQTT and its login session on the other', async () => {
    const [a, b] = hubs as [Hub, Hub];
    const r = await cli(['user', 'add', 'ursula', '--role', 'operator', '--password-stdin', '--store', store], 'first password 1\n');
    assert.equal(r.code, 0, r.err);
    const onA = await RawClient.open(wsUrl(a, '/ws'));
    assert.equal((await onA.request('auth', { user: 'ursula', password: 'first password 1' })).ok, true);
    const mqttB = await mqttConnect(mqttUrl(b), { username: 'ursula', password: 'first password 1' });
    let mqttBClosed = false;
    mqttB.on('close', () => (mqttBClosed = true));
    const login = await fetch(`${b.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'ursula', password: 'first password 1' }) });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    assert.equal((await fetch(`${b.url}/api/v1/devices`, { headers: { cookie } })).status, 200);
    const p = await cli(['user', 'passwd', 'ursula', '--password-stdin', '--store', store], 'second password 2\n');
    assert.equal(p.code, 0, p.err);
    await until(() => onA.closed !== undefined && mqttBClosed, WAIT, 'the user\'s connections close on both hubs');
    assert.equal(onA.closed!.code, 4003);
    assert.equal((await fetch(`${b.url}/api/v1/devices`, { headers: { cookie } })).status, 401);
    await legitFlowing();
  });
});
