import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNode, type SensorNode } from '../src/node/node.js';
import { longitudeAt } from '../src/light/sun.js';
import { startAedes, type TestBroker } from './helpers/brokers.js';
import { TestDoor } from './helpers/door.js';
import { Observer } from './helpers/observer.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(p: () => boolean, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!p()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out');
    await sleep(10);
  }
}

/** Records telemetry timestamps as the broker receives them (what a hub would ingest). */
function recordTelemetry(b: TestBroker, into: number[]): void {
  b.broker.on('publish', (packet, client) => {
    if (client && packet.topic === 'devices/n1/telemetry') into.push((JSON.parse(packet.payload.toString()) as { ts: number }).ts);
  });
}

/** Readings the hub got are exactly the node's readings, in order, except the tail still buffered. */
function assertNoLossNoDuplicates(taken: number[], received: number[], node: SensorNode): void {
  assert.equal(new Set(received).size, received.length, 'no duplicates');
  assert.deepEqual(received, [...received].sort((a, b) => a - b), 'oldest first');
  const buffered = node.hubStatus().buffered;
  assert.deepEqual(received, taken.slice(0, taken.length - buffered), 'nothing lost');
}

test('MQTT: readings taken during a broker outage arrive after it with original timestamps', { timeout: 30_000 }, async () => {
  let b = await startAedes();
  const port = b.port;
  const received: number[] = [];
  recordTelemetry(b, received);
  const taken: number[] = [];
  const node = await startNode({ id: 'n1', hub: b.url, port: 0, light: '120', intervalMs: 100, reconnectMs: 100, onReading: (r) => taken.push(r.ts) });
  try {
    await until(() => received.length >= 5 && node.hubStatus().buffered === 0);
    await b.close();
    const outageStart = taken.length;
    await until(() => taken.length >= outageStart + 15);
    assert.ok(node.hubStatus().buffered >= 10, `buffered ${node.hubStatus().buffered}`);
    assert.equal(node.hubStatus().connected, false);
    b = await startAedes(port);
    recordTelemetry(b, received);
    await until(() => node.hubStatus().connected && received.length >= outageStart + 15);
  } finally {
    await node.stop();
    await b.close();
  }
  assertNoLossNoDuplicates(taken, received, node);
});

test('JSON device door: buffering across a hub restart, acked by telemetry ids', { timeout: 30_000 }, async () => {
  const door = await new TestDoor().start();
  const taken: number[] = [];
  const node = await startNode({ id: 'n1', hub: door.url, port: 0, light: 'indoor', longitude: longitudeAt(12), seed: 3, intervalMs: 100, reconnectMs: 100, onReading: (r) => taken.push(r.ts) });
  const received = () => door.telemetry.map((t) => t.ts!);
  try {
    await until(() => door.telemetry.length >= 5 && node.hubStatus().buffered === 0);
    assert.ok(door.metas.has('n1'));
    await door.stop();
    const outageStart = taken.length;
    await until(() => taken.length >= outageStart + 15);
    await door.start(door.port);
    await until(() => node.hubStatus().connected && door.telemetry.length >= outageStart + 15);
    const res = await door.call('n1', 'read_now');
    assert.equal(res.ok, true);
  } finally {
    await node.stop();
    await door.stop();
  }
  assertNoLossNoDuplicates(taken, received(), node);
});

test('bufferDir: readings taken while the hub was down survive a node restart', { timeout: 30_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fl-node-'));
  const door = await new TestDoor().start();
  const url = door.url;
  await door.stop();
  const taken: number[] = [];
  try {
    const first = await startNode({ id: 'n1', hub: url, port: 0, light: '80', intervalMs: 100, reconnectMs: 100, bufferDir: dir, onReading: (r) => taken.push(r.ts) });
    await until(() => taken.length >= 8);
    await first.stop();
    assert.equal(first.hubStatus().buffered, taken.length);
    await door.start(door.port);
    const second = await startNode({ id: 'n1', hub: url, port: 0, light: '80', intervalMs: 60_000, reconnectMs: 100, bufferDir: dir, onReading: (r) => taken.push(r.ts) });
    await until(() => second.hubStatus().buffered === 0 && door.telemetry.length >= taken.length);
    await second.stop();
    assertNoLossNoDuplicates(taken, door.telemetry.map((t) => t.ts!), second);
  } finally {
    await door.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('standalone node: live page, commands over MQTT, identify', { timeout: 30_000 }, async () => {
  const b = await startAedes();
  const obs = await Observer.connect(b.url);
  const node = await startNode({ id: 'n1', hub: b.url, port: 0, light: '300', intervalMs: 100 });
  try {
    const meta = await obs.waitFor((m) => m.topic === 'devices/n1/meta');
    assert.equal(meta.payload.model, 'VEML7700 (emulated)');
    await until(() => node.latest() !== undefined);
    const latest = (await (await fetch(`${node.url}api/latest`)).json()) as { lux: number; id: string };
    assert.equal(latest.id, 'n1');
    assert.ok(Math.abs(latest.lux - 300) < 2);
    assert.deepEqual((await obs.call('n1', 'set_interval', { ms: 250 })).result, { intervalMs: 250 });
    assert.equal((await obs.call('n1', 'identify', {})).ok, true);
  } finally {
    await node.stop();
    await obs.close();
    await b.close();
  }
  const alone = await startNode({ id: 'n2', port: 0, light: 'dark' });
  await until(() => alone.latest() !== undefined);
  assert.equal(alone.hubStatus().connected, false);
  await alone.stop();
});
