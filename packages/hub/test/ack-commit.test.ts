/**
 * "An acknowledgement means stored" through the hub's own parts: ingest's held
 * path (IngestQueue.pushHeld), the core bus's holds, and a real MQTT.js client
 * whose PUBACK arrives only once its points are in the store (bus/hold.ts), and
 * the JSON device door's reply to a telemetry frame with an id.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startFleet } from '@fieldlink/device';
import { createBus } from '../src/bus/index.js';
import type { CoreBus } from '../src/bus/core.js';
import { NotStored } from '../src/bus/hold.js';
import { openStore } from '../src/storage/index.js';
import type { Point, Store } from '../src/storage/types.js';
import { IngestQueue, startIngest, type Ingest } from '../src/services/ingest.js';
import type { Hub } from '../src/hub.js';
import { RawClient, startTestHub, wsUrl } from './helpers.js';

const NOW = Date.now();
const pts = (n: number, device: string, from = NOW): Point[] => Array.from({ length: n }, (_, i) => ({ device, metric: 'm', ts: from + i, value: i }));
const q = (device: string) => ({ device, metric: 'm', from: 0, to: NOW + 86_400_000, limit: 10_000 });

/** The real store, with appends that can be held shut or made to fail. */
function flaky(real: Store) {
  const f = { failures: 0, gate: undefined as Promise<void> | undefined, appends: 0 };
  const store = new Proxy(real, {
    get: (t, k) => (k === 'append' ? async (p: Point[]) => {
      await f.gate;
      if (f.failures > 0) { f.failures--; throw new Error('disk on fire'); }
      f.appends++;
      await real.append(p);
    } : Reflect.get(t, k)),
  });
  return { f, store };
}

const settled = (p: Promise<void>) => p.then(() => 'ok', (e: unknown) => (e instanceof NotStored ? e.why : String(e)));

describe('IngestQueue.pushHeld', () => {
  let dir: string;
  let real: Store;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'fl-ack-')); real = await openStore({ dataDir: dir }); });
  after(async () => { await real.close(); await rm(dir, { recursive: true, force: true }); });

  it('resolves once the points are committed; messages of one batch share one commit', async () => {
    const { f, store } = flaky(real);
    let open!: () => void;
    f.gate = new Promise((r) => { open = r; });
    const iq = new IngestQueue(store, { batchMs: 1 });
    const a = iq.pushHeld(pts(3, 'h1'));
    const b = iq.pushHeld(pts(3, 'h1', NOW + 10));
    assert.equal(a, b, 'one commit per batch cut');
    let done = false;
    void a.then(() => { done = true; });
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(done, false, 'not before the store committed');
    open();
    await a;
    assert.equal(await real.count(q('h1')), 6);
  });

  it('a message split over two batches resolves after both', async () => {
    const { store } = flaky(real);
    const iq = new IngestQueue(store, { batchMs: 1, batchMaxPoints: 4 });
    await iq.pushHeld(pts(10, 'h2'));
    assert.equal(await real.count(q('h2')), 10);
  });

  it('refuses (never acks and drops): full queue → full; failed write → failed, retried anyway; while failing → failed at once', async () => {
    const { f, store } = flaky(real);
    let open!: () => void;
    f.gate = new Promise((r) => { open = r; });
    const iq = new IngestQueue(store, { batchMs: 1, queueMaxPoints: 10, retryBaseMs: 5 });
    const first = iq.pushHeld(pts(8, 'h3'));
    assert.equal(await settled(iq.pushHeld(pts(5, 'h3', NOW + 100))), 'full');
    f.failures = 2;
    open();
    assert.equal(await settled(first), 'failed');
    assert.equal(await settled(iq.pushHeld(pts(1, 'h3', NOW + 200))), 'failed', 'refused while the write is failing');
    await iq.flush();
    assert.equal(await real.count(q('h3')), 8, 'the refused batch was still retried and landed');
    assert.equal(iq.stats().notStored, 2);
    assert.equal(await settled(iq.pushHeld(pts(1, 'h3', NOW + 300))), 'ok', 'accepted again once the store works');
  });

  it('stop() that gives up fails every commit still waiting', async () => {
    const { f, store } = flaky(real);
    f.failures = Infinity;
    const iq = new IngestQueue(store, { batchMs: 1, retryBaseMs: 5, stopTimeoutMs: 50 });
    const p = iq.pushHeld(pts(2, 'h4'));
    await iq.stop();
    assert.equal(await settled(p), 'failed');
  });
});

describe('core bus + ingest + MQTT.js: PUBACK after commit', () => {
  let dir: string;
  let real: Store;
  let ctl: ReturnType<typeof flaky>['f'];
  let bus: CoreBus;
  let ingest: Ingest;
  let server: Server;
  let url: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fl-ack-bus-'));
    real = await openStore({ dataDir: dir });
    const fl = flaky(real);
    ctl = fl.f;
    bus = (await createBus({ kind: 'embedded', engine: 'core' })) as CoreBus;
    ingest = await startIngest(bus, fl.store, { batchMs: 5, queueMaxPoints: 50, retryBaseMs: 5 });
    server = createServer((s) => bus.mqtt.handle(s, { remote: 'test', transport: 'tcp' }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(async () => {
    await ingest.stop();
    await bus.close();
    server.close();
    await real.close();
    await rm(dir, { recursive: true, force: true });
  });

  const client = async (v: 4 | 5) => {
    const c = await mqtt.connectAsync(url, { protocolVersion: v, clientId: `ack-${v}-${Math.random().toString(36).slice(2, 6)}`, reconnectPeriod: 0 });
    return c;
  };

  it('[MQTT-4.3.2] QoS 1 and 2 telemetry: when the PUBACK/PUBREC arrives the points are in the store', async () => {
    const c = await client(5);
    for (let i = 0; i < 20; i++) {
      await c.publishAsync('devices/m1/telemetry', JSON.stringify({ m: i, ts: NOW + i }), { qos: i % 2 === 0 ? 1 : 2 });
      assert.equal(await real.count(q('m1')), i + 1, `message ${i}`);
    }
    await c.endAsync();
  });

  it('v5: a full ingest queue is PUBACK 0x97, a failing store 0x80; refusals answered in PUBLISH order', async () => {
    const c = await client(5);
    let open!: () => void;
    ctl.gate = new Promise((r) => { open = r; });
    const big = JSON.stringify(Object.fromEntries([...Array.from({ length: 30 }, (_, i) => [`m${i}`, i]), ['ts', NOW]]));
    const first = c.publishAsync('devices/m2/telemetry', big, { qos: 1 });
    const second = c.publishAsync('devices/m2/telemetry', JSON.stringify({ ...JSON.parse(big), ts: NOW + 1 }), { qos: 1 });
    const codeOf = (p: Promise<unknown>) => p.then(() => 0, (e: { code?: number }) => e.code ?? -1);
    ctl.failures = 1;
    open();
    assert.equal(await codeOf(first), 0x80);
    assert.equal(await codeOf(second), 0x97, 'refused at once, answered in order after the first');
    await ingest.flush();
    ctl.gate = undefined;
    assert.equal(await codeOf(c.publishAsync('devices/m2/telemetry', JSON.stringify({ m: 1, ts: NOW + 2 }), { qos: 1 })), 0);
    assert.equal(bus.mqtt.counters.ack_refused, 2);
    await c.endAsync();
  });

  it('3.1.1: a refused message is not acknowledged; MQTT.js resends it on reconnect and then it is stored once', async () => {
    const c = await mqtt.connectAsync(url, { protocolVersion: 4, clientId: 'ack-311', clean: false, reconnectPeriod: 50 });
    let open!: () => void;
    ctl.gate = new Promise((r) => { open = r; });
    ctl.failures = 1;
    let acked = false;
    const p = c.publishAsync('devices/m3/telemetry', JSON.stringify({ m: 7, ts: NOW + 7 }), { qos: 1 }).then(() => { acked = true; });
    open();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(acked, false, 'no PUBACK for a refused message');
    ctl.gate = undefined;
    (c as unknown as { stream: { destroy(): void } }).stream.destroy(); // drop the connection: MQTT.js resends what is unacknowledged
    await p;
    await ingest.flush();
    assert.equal(await real.count(q('m3')), 1, 'stored exactly once (the refused batch was retried, the resend ignored)');
    await c.endAsync();
  });

  it('bus.publish(…, {durable: true}) resolves after commit and rejects with NotStored when refused', async () => {
    await bus.publish('devices/m4/telemetry', JSON.stringify({ m: 1, ts: NOW }), { qos: 1, durable: true });
    assert.equal(await real.count(q('m4')), 1);
    ctl.failures = 1;
    assert.equal(await settled(bus.publish('devices/m4/telemetry', JSON.stringify({ m: 2, ts: NOW + 1 }), { qos: 1, durable: true })), 'failed');
    await ingest.flush();
  });
});

describe('JSON device door: a telemetry frame with an id is answered after commit', () => {
  let dir: string;
  let hub: Hub;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fl-ack-door-'));
    hub = await startTestHub({ store: 'sqlite', dataDir: dir, mqttEngine: 'core', ingestQueuePoints: 100, publishRate: 0 });
  });
  after(async () => { await hub.stop(); await rm(dir, { recursive: true, force: true }); });

  it('ok means the points are in history; a refusal is OVERLOADED (retry later), nothing acknowledged is missing', async () => {
    const d = await RawClient.open(wsUrl(hub, '/ws/device'));
    assert.equal((await d.request('auth', { device: 'door1' })).ok, true);
    for (let i = 0; i < 10; i++) {
      const r = await d.request('telemetry', { data: { m: i }, ts: NOW + i });
      assert.equal(r.ok, true);
      assert.equal(await hub.store!.count(q('door1')), i + 1, `frame ${i} is stored when its reply arrives`);
    }
    const wide = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`w${i}`, i]));
    const r = await d.request('telemetry', { data: wide, ts: NOW + 50 });
    assert.deepEqual([r.ok, r.error?.name], [false, 'OVERLOADED']);
    assert.ok(r.error!.code >= 2000 && r.error!.code < 3000, 'a retry-later code');
    d.close();
  });

  it('the simulator with ack: every reading it counts as sent is in history (JSON door and MQTT)', async () => {
    for (const url of [wsUrl(hub, '/ws/device'), wsUrl(hub, '/mqtt')]) {
      const prefix = url.endsWith('/mqtt') ? 'acksim-m' : 'acksim-w';
      const fleet = await startFleet({ url, count: 2, idPrefix: prefix, intervalMs: 20, light: 'indoor', ack: true });
      const deadline = Date.now() + 10_000;
      while (fleet.stats().sent < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      const sent = fleet.stats().sent;
      let stored = 0;
      for (const id of fleet.ids) stored += await hub.store!.count({ device: id, metric: 'lux', from: 0, to: Date.now() + 60_000 });
      await fleet.stop();
      assert.ok(sent >= 10, `${prefix}: ${sent} acknowledged`);
      assert.ok(stored >= sent, `${prefix}: ${stored} stored, ${sent} acknowledged`);
    }
  });
});
