/**
 * Issue #11 items 10 and 13 (replay), on the browser door (/ws), the only door
 * with the shared fan-out: subscription churn cannot pile up lingering bus
 * subscriptions past their bounds, and large retained replays to several viewers
 * at once are flow-controlled, complete, retained-before-live, while the
 * legitimate device and viewer keep being served.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import { RawClient, mqttConnect, until, wsUrl, type Frame } from '../helpers.js';
import { securedHub, type Secured } from './fixture.js';
import { bystanders, metric, type Bystanders } from './bystanders.js';

const TOTAL = 60;
const PER_CLIENT = 25;
let s: Secured;
let by: Bystanders;

before(async () => {
  s = await securedHub({ publishRate: 1000, maxLingeringFilters: TOTAL, maxLingeringPerClient: PER_CLIENT, mqttMaxPacketBytes: 2 * 1024 * 1024, wsStallTimeoutMs: 4000, retainedMaxBytesPerClient: 64 * 1024 * 1024 });
  by = await bystanders(s);
});
after(async () => {
  await by.close();
  await s.stop();
});

const lingering = () => metric(s, 'fieldlink_ws_lingering_filters');
const browserFilters = async () => ((await (await fetch(`${s.hub.url}/healthz`)).json()) as { bus: { browserFilters: number } }).bus.browserFilters;

async function viewer(auth: Record<string, unknown>): Promise<RawClient> {
  const v = await RawClient.open(wsUrl(s.hub, '/ws'));
  assert.equal((await v.request('auth', auth)).ok, true);
  return v;
}

test('sub/unsub churn by one viewer: lingering filters stay within the per-client bound, oldest evicted first', async () => {
  const v = await viewer({ token: s.tokens.viewer });
  const evicted0 = await metric(s, 'fieldlink_ws_linger_evicted_total');
  for (let i = 0; i < 400; i++) {
    assert.equal((await v.request('sub', { filter: `devices/d1/churn/${i}` })).ok, true);
    assert.equal((await v.request('unsub', { filter: `devices/d1/churn/${i}` })).ok, true);
  }
  assert.ok((await lingering()) <= PER_CLIENT, `${await lingering()} lingering`);
  assert.ok((await metric(s, 'fieldlink_ws_linger_evicted_total')) - evicted0 >= 400 - PER_CLIENT);
  v.close();
  await by.check();
});

test('pipelined churn (no waiting for replies) and wildcard filters: the bound holds', async () => {
  const v = await viewer({ token: s.tokens.viewer });
  const ops: Promise<Frame>[] = [];
  for (let i = 0; i < 300; i++) {
    ops.push(v.request('sub', { filter: `devices/+/p${i}/#` }, 20_000));
    ops.push(v.request('unsub', { filter: `devices/+/p${i}/#` }, 20_000));
  }
  await Promise.all(ops);
  assert.ok((await lingering()) <= PER_CLIENT);
  v.close();
  await by.check();
});

test('connect, subscribe, disconnect, repeated: closed sessions\' filters linger within the bound of their identity', async () => {
  for (let c = 0; c < 15; c++) {
    const v = await viewer({ user: 'vera', password: s.passwords.vera });
    for (let i = 0; i < 10; i++) assert.equal((await v.request('sub', { filter: `devices/d1/vera/${c}/${i}` })).ok, true);
    v.close();
    await until(() => v.closed !== undefined);
  }
  // vera's filters are charged to vera (the viewer token's from the tests before are still lingering)
  assert.ok((await lingering()) <= 2 * PER_CLIENT);
  assert.ok((await browserFilters()) <= TOTAL + 5, 'every filter on the bus is held or within the lingering bound');
  await by.check();
});

test('several identities churning at once: the total bound holds; a quick reconnect still resumes', async () => {
  const vs = await Promise.all([
    viewer({ token: s.tokens.viewer }),
    viewer({ token: s.tokens.operator }),
    viewer({ user: 'vera', password: s.passwords.vera }),
    viewer({ user: 'otto', password: s.passwords.otto }),
  ]);
  await Promise.all(vs.map(async (v, n) => {
    for (let i = 0; i < 40; i++) {
      await v.request('sub', { filter: `devices/d1/many/${n}/${i}` });
      await v.request('unsub', { filter: `devices/d1/many/${n}/${i}` });
    }
  }));
  assert.ok((await lingering()) <= TOTAL);
  // resume, the thing lingering is for: the youngest lingering filter is still there
  const r = await viewer({ token: s.tokens.viewer });
  const sub = await r.request('sub', { filter: 'devices/d1/telemetry/resume' });
  const { epoch } = sub.result as { epoch: string };
  await by.device.publishAsync('devices/d1/telemetry/resume', '{"n":1}', { qos: 1 });
  const seen = await r.waitFor((f) => f.topic === 'devices/d1/telemetry/resume');
  r.close();
  await until(() => r.closed !== undefined);
  const again = await viewer({ token: s.tokens.viewer });
  const resumed = await again.request('sub', { filter: 'devices/d1/telemetry/resume', epoch, since: seen.seq });
  assert.equal((resumed.result as { resumed?: boolean }).resumed, true);
  again.close();
  for (const v of vs) v.close();
  await by.check();
});

const N = 24;
const blob = (i: number) => JSON.stringify({ i, pad: 'x'.repeat(200 * 1024) });

async function retainBlobs(): Promise<MqttClient> {
  const d2 = await mqttConnect(`mqtt://127.0.0.1:${s.hub.mqttPort}`, { username: 'd2', password: s.secret.d2 });
  for (let i = 0; i < N; i++) await d2.publishAsync(`devices/d2/blob/${i}`, blob(i), { qos: 1, retain: true });
  return d2;
}

/** Stop reading the socket: the hub's writes back up past the soft limit within a few hundred KB. */
const pause = (v: RawClient) => (v.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;

test('a viewer that stops reading during a large replay loses nothing when it resumes; one that never does is closed 4008', async () => {
  const d2 = await retainBlobs();
  const dropped0 = await metric(s, 'fieldlink_ws_pushes_dropped');
  const slow = await viewer({ token: s.tokens.viewer });
  const stuck = await viewer({ token: s.tokens.viewer });
  // more than the kernel's socket buffers on loopback absorb (several MB), so the hub has to wait for the stuck one
  for (let i = 0; i < 40; i++) await d2.publishAsync(`devices/d2/big/${i}`, JSON.stringify({ i, pad: 'y'.repeat(256 * 1024) }), { qos: 1, retain: true });
  const slowSub = slow.request('sub', { filter: 'devices/d2/blob/#' }, 60_000);
  stuck.ws.send(JSON.stringify({ op: 'sub', id: 'stuck', filter: 'devices/d2/+/#' }));
  pause(slow).pause();
  pause(stuck).pause();
  // while they are stuck, everyone else is served
  await by.check();
  await new Promise((r) => setTimeout(r, 1000));
  await by.check();
  pause(slow).resume();
  assert.equal(((await slowSub).result as { retained: number }).retained, N);
  const got = slow.msgs().filter((m) => m.retained === true).map((m) => (m.payload as { i: number }).i);
  assert.deepEqual(got, Array.from({ length: N }, (_, i) => i), 'every retained message, in order');
  assert.equal((await metric(s, 'fieldlink_ws_pushes_dropped')) - dropped0, 0);
  // the stuck one passes the stall timeout (4 s here) and is cut off as a slow consumer (4008; it reads nothing, so the hub counts)
  slow.close();
  const browsers = async () => ((await (await fetch(`${s.hub.url}/healthz`)).json()) as { connections: { browsers: number } }).connections.browsers;
  const deadline = Date.now() + 30_000;
  while ((await browsers()) > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await browsers(), 1, 'only the bystander viewer is left');
  pause(stuck).resume();
  stuck.close();
  for (let i = 0; i < 40; i++) await d2.publishAsync(`devices/d2/big/${i}`, '', { qos: 1, retain: true });
  await d2.endAsync();
  await by.check();
});

test('five viewers subscribing at once to large retained messages get them all, in order, before live ones; others unaffected', async () => {
  const d2 = await retainBlobs();
  const dropped0 = await metric(s, 'fieldlink_ws_pushes_dropped');
  const viewers = await Promise.all(Array.from({ length: 5 }, () => viewer({ token: s.tokens.viewer })));
  const subs = viewers.map((v) => v.request('sub', { filter: 'devices/d2/blob/#' }, 60_000));
  // live traffic while the replays run: the bystanders, and a live message on the replayed filter
  await by.check();
  await d2.publishAsync('devices/d2/blob/live', JSON.stringify({ live: true }), { qos: 1 });
  const replies = await Promise.all(subs);
  for (const [k, v] of viewers.entries()) {
    assert.equal((replies[k]!.result as { retained: number }).retained, N);
    await v.waitFor((f) => f.topic === 'devices/d2/blob/live', 30_000);
    const msgs = v.msgs().filter((m) => (m.topic as string).startsWith('devices/d2/blob/'));
    const firstLive = msgs.findIndex((m) => m.retained === false);
    assert.equal(firstLive, N, `viewer ${k}: all ${N} retained first, then live`);
    assert.deepEqual(new Set(msgs.slice(0, N).map((m) => (m.payload as { i: number }).i)).size, N);
    assert.equal(v.closed, undefined, 'not closed as a slow consumer');
  }
  assert.equal((await metric(s, 'fieldlink_ws_pushes_dropped')) - dropped0, 0, 'a replay drops nothing');
  for (const v of viewers) v.close();
  for (let i = 0; i < N; i++) await d2.publishAsync(`devices/d2/blob/${i}`, '', { qos: 1, retain: true });
  await d2.endAsync();
  await by.check();
});
