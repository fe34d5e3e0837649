/**
 * `sub` with a resume point from an earlier hub run (transports/browser/rebuild.ts):
 * telemetry the client missed is rebuilt from the store, exactly once, in ts order,
 * marked `rebuilt`; what cannot be proven answers `resumed:false` as before.
 * In-process hubs on one store (SQLite, and PostgreSQL for the rebuild), restarted; the kill -9 case with a
 * real child process is in resume-restart.test.ts.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RawClient, mqttConnect, startTestHub, until, wsUrl, type Frame } from './helpers.js';
import type { Hub } from '../src/hub.js';
import pg from 'pg';
import { PG_URL, dropSchema, randomSchema, requirePostgres } from './storage/pg-harness.js';

const dirs: string[] = [];
const schemas: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  for (const s of schemas) await dropSchema(s);
});

async function hubOn(dir: string): Promise<Hub> {
  return startTestHub({ store: 'sqlite', dataDir: dir, mqttEngine: 'core' });
}

async function publish(hub: Hub, msgs: [device: string, ts: number, lux: number][]): Promise<void> {
  for (const [d, ts, lux] of msgs) {
    const c = await mqttConnect(`mqtt://127.0.0.1:${hub.mqttPort}`, { clientId: d }); // a device publishes under its own id
    await c.publishAsync(`devices/${d}/telemetry`, JSON.stringify({ lux, ts }), { qos: 1 }); // acked = stored
    await c.endAsync();
  }
}

const key = (f: Frame) => `${String(f.topic).split('/')[1]}@${(f.payload as { ts: number }).ts}`;

/** The same hub's store each call: SQLite in a directory, or a PostgreSQL schema. */
async function sqliteHubs(): Promise<() => Promise<Hub>> {
  const dir = await mkdtemp(join(tmpdir(), 'fl-resume-'));
  dirs.push(dir);
  return () => hubOn(dir);
}

async function postgresHubs(): Promise<() => Promise<Hub>> {
  await requirePostgres();
  const schema = randomSchema();
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`CREATE SCHEMA "${schema}"`);
  await c.end();
  schemas.push(schema);
  const dir = await mkdtemp(join(tmpdir(), 'fl-resume-'));
  dirs.push(dir);
  const store = `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return () => startTestHub({ store, dataDir: dir, mqttEngine: 'core' });
}

for (const [name, hubs] of [['SQLite', sqliteHubs], ['PostgreSQL', postgresHubs]] as const) {
  test(`a resume from the previous run gets the missed telemetry rebuilt from the store, once, then live (${name})`, async () => {
    const next = await hubs();
    const t0 = Date.now() - 60_000;
    let hub = await next();
    const a = await RawClient.open(wsUrl(hub, '/ws'));
    const first = await a.request('sub', { filter: 'devices/+/telemetry' });
    const epoch = (first.result as { epoch: string }).epoch;
    await publish(hub, [['a', t0 + 1, 1], ['b', t0 + 2, 2], ['a', t0 + 3, 3]]);
    await until(() => a.msgs().length === 3);
    const since = a.msgs().at(-1)!.seq as number;
    a.close();
    await until(() => a.closed !== undefined);
    // missed while away, before the restart: with b's reading older than what the client saw of a
    await publish(hub, [['b', t0 + 3, 25], ['a', t0 + 4, 4]]);
    await hub.stop();

    hub = await next();
    // after the restart, before the client is back; c was never seen: its readings count from the hub time of the client's last message
    const tc = Date.now();
    await publish(hub, [['a', t0 + 5, 5], ['c', tc, 6]]);
    const b = await RawClient.open(wsUrl(hub, '/ws'));
    const reply = await b.request('sub', { filter: 'devices/+/telemetry', epoch, since });
    const r = reply.result as { resumed?: boolean; rebuilt?: number; epoch: string };
    assert.equal(r.resumed, true, JSON.stringify(reply));
    assert.notEqual(r.epoch, epoch);
    assert.equal(r.rebuilt, 4);
    const rebuilt = b.msgs();
    assert.deepEqual(rebuilt.map(key), [`b@${t0 + 3}`, `a@${t0 + 4}`, `a@${t0 + 5}`, `c@${tc}`]);
    assert.ok(rebuilt.every((f) => f.rebuilt === true && f.retained === false));
    assert.deepEqual(rebuilt[0]!.payload, { lux: 25, ts: t0 + 3 });
    const seqs = rebuilt.map((f) => f.seq as number);
    assert.deepEqual([...seqs].sort((x, y) => x - y), seqs, 'new seqs in ts order');

    await publish(hub, [['a', t0 + 7, 7]]);
    await b.waitFor((f) => f.op === 'msg' && (f.payload as { lux: number }).lux === 7);
    const all = [...a.msgs(), ...b.msgs()].map(key);
    assert.equal(new Set(all).size, all.length, 'no reading twice');
    assert.equal(all.length, 8, 'every stored reading');
    assert.ok((b.msgs().at(-1)!.seq as number) > seqs.at(-1)!, 'live seqs follow the rebuilt ones');
    b.close();
    await hub.stop();
  });
}

test('what the marks cannot prove, or what is not telemetry, answers resumed:false as before', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fl-resume-'));
  dirs.push(dir);
  let hub = await hubOn(dir);
  const a = await RawClient.open(wsUrl(hub, '/ws'));
  const epoch = ((await a.request('sub', { filter: 'devices/+/telemetry' })).result as { epoch: string }).epoch;
  await publish(hub, [['a', Date.now() - 1000, 1]]);
  await until(() => a.msgs().length === 1);
  const since = a.msgs()[0]!.seq as number;
  a.close();
  await hub.stop();
  hub = await hubOn(dir);
  const b = await RawClient.open(wsUrl(hub, '/ws'));
  const res = async (fields: Record<string, unknown>) => ((await b.request('sub', fields)).result as { resumed?: boolean }).resumed;
  assert.equal(await res({ filter: 'devices/+/status', epoch, since }), false, 'not telemetry');
  assert.equal(await res({ filter: 'devices/#', epoch, since }), false, 'a filter wider than telemetry');
  assert.equal(await res({ filter: 'devices/a/telemetry', epoch: 'no-such-epoch', since }), false, 'an epoch the store does not know');
  assert.equal(await res({ filter: 'devices/z/telemetry', epoch, since: since + 1_000 }), false, 'a seq past what was committed');
  assert.equal(await res({ filter: 'devices/a/telemetry', epoch, since }), true, 'nothing missed is still resumed');
  assert.equal(b.msgs().length, 0);
  b.close();
  await hub.stop();
});

test('a resume in the middle of a stream of readings: none twice, none missing (rebuilt, then live)', async () => {
  const next = await sqliteHubs();
  const t0 = Date.now() - 60_000;
  let hub = await next();
  const a = await RawClient.open(wsUrl(hub, '/ws'));
  const epoch = ((await a.request('sub', { filter: 'devices/+/telemetry' })).result as { epoch: string }).epoch;
  await publish(hub, [['s', t0 + 1, 1], ['s', t0 + 2, 2]]);
  await until(() => a.msgs().length === 2);
  const since = a.msgs().at(-1)!.seq as number;
  a.close();
  await hub.stop();
  hub = await next();
  const N = 500;
  const dev = await mqttConnect(`mqtt://127.0.0.1:${hub.mqttPort}`, { clientId: 's' });
  let sent = 2;
  const stream = (async () => {
    while (sent < N) {
      sent++;
      // QoS 0, one per turn: readings keep arriving while the sub joins, flushes ingest and reads the store
      dev.publish('devices/s/telemetry', JSON.stringify({ lux: sent, ts: t0 + sent }), { qos: 0 });
      await new Promise((r) => setTimeout(r, 8)); // under the per-device rate limit
    }
  })();
  await until(() => sent > 150, 10_000, 'stream under way');
  const b = await RawClient.open(wsUrl(hub, '/ws'));
  const r = (await b.request('sub', { filter: 'devices/+/telemetry', epoch, since })).result as { resumed?: boolean; rebuilt?: number };
  assert.equal(r.resumed, true);
  assert.ok(r.rebuilt! > 0);
  await stream;
  await until(() => b.msgs().some((f) => (f.payload as { lux: number }).lux === N), 10_000, 'last reading');
  const got = [...a.msgs(), ...b.msgs()].map((f) => (f.payload as { lux: number }).lux);
  assert.deepEqual(got, Array.from({ length: N }, (_, i) => i + 1), 'each reading once, in order');
  await dev.endAsync();
  b.close();
  await hub.stop();
});
