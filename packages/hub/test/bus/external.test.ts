// The bus contract over a real broker: Debian's mosquitto (MQTT 5), a fresh one per
// test so retained messages never leak between tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createExternalBus } from '../../src/bus/external.js';
import type { Bus } from '../../src/bus/types.js';
import { freePort, startMosquitto, type Mosquitto } from '../../../device/test/helpers/brokers.js';
import { busContract } from './contract.js';

/** A bus on a fresh mosquitto; the broker is stopped with the bus, or at once if the bus cannot start (else the file never ends). */
async function onMosquitto(extraConfig = '', url = (m: Mosquitto) => m.url): Promise<Bus> {
  const m = await startMosquitto(extraConfig);
  try {
    const bus = await createExternalBus({ url: url(m) });
    return { ...bus, close: async () => { await bus.close(); await m.close(); } };
  } catch (err) {
    await m.close();
    throw err;
  }
}

busContract('external (mosquitto)', () => onMosquitto());

test('external: messages from other clients of the broker arrive; shared subscriptions split them between hubs', async () => {
  const m = await startMosquitto();
  const buses: Bus[] = [];
  try {
    const [a, b] = [await createExternalBus({ url: m.url }), await createExternalBus({ url: m.url })];
    buses.push(a, b);
    const seen = { a: 0, b: 0, all: 0 };
    await a.subscribe('devices/+/telemetry', () => seen.a++, { shareGroup: 'ingest' });
    await b.subscribe('devices/+/telemetry', () => seen.b++, { shareGroup: 'ingest' });
    await b.subscribe('devices/#', () => seen.all++);
    for (let i = 0; i < 100; i++) await a.publish(`devices/d${i % 3}/telemetry`, '{"v":1}', { qos: 1 });
    const end = Date.now() + 5000;
    while (seen.all < 100 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(seen.all, 100);
    assert.equal(seen.a + seen.b, 100, 'each telemetry message reached one member of the share group');
    assert.ok(seen.a > 0 && seen.b > 0, `split: ${seen.a} / ${seen.b}`);
  } finally {
    await Promise.all(buses.map((x) => x.close()));
    await m.close();
  }
});

test('external: after the broker restarts, the bus reconnects and its subscriptions work again', async () => {
  let m = await startMosquitto();
  let bus: Bus | undefined;
  try {
    bus = await createExternalBus({ url: m.url });
    const got: string[] = [];
    await bus.subscribe('a/#', (x) => got.push(x.payload.toString()));
    await bus.subscribe('$x/#', (x) => got.push(`$${x.payload.toString()}`));
    await bus.publish('a/1', 'before', { qos: 1 });
    await bus.publish('$x/1', 'before', { qos: 1 });
    const port = m.port;
    await m.close();
    m = await startMosquitto('', port);
    const end = Date.now() + 10_000;
    // Publish until one arrives: the bus resubscribes when it reconnects (within a second or so).
    while (!got.includes('after') && Date.now() < end) {
      await bus!.publish('a/1', 'after', { qos: 1 }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
    }
    await bus.publish('$x/1', 'after', { qos: 1 });
    await bus.publish('r/1', 'kept', { retain: true });
    assert.deepEqual((await bus.retained('r/#')).map((x) => x.payload.toString()), ['kept']);
    const until = Date.now() + 3000;
    while (!got.includes('$after') && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual([...new Set(got)], ['before', '$before', 'after', '$after']);
  } finally {
    await bus?.close();
    await m.close();
  }
});

test('external: MQTT over WebSocket to the broker (ws://) works the same', async () => {
  const wsPort = await freePort();
  const bus = await onMosquitto(`listener ${wsPort} 127.0.0.1\nprotocol websockets\n`, () => `ws://127.0.0.1:${wsPort}`);
  try {
    await bus.publish('w/1', 'kept', { retain: true });
    const got: [string, boolean][] = [];
    await bus.subscribe('w/+', (x) => got.push([x.payload.toString(), x.retained]));
    await bus.publish('w/1', 'live', { qos: 1 });
    const end = Date.now() + 3000;
    while (got.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(got, [['kept', true], ['live', false]]);
  } finally {
    await bus.close(); // stops its mosquitto too
  }
});

test('external: an unreachable broker is a clear error without the password', async () => {
  await assert.rejects(createExternalBus({ url: 'mqtt://hub:s3cret@127.0.0.1:1', connectTimeoutMs: 1000 }), (err: Error) => {
    assert.match(err.message, /MQTT broker at mqtt:\/\/hub:\*\*\*@127\.0\.0\.1:1\/? is unreachable/);
    assert.doesNotMatch(err.message, /s3cret/);
    return true;
  });
});
