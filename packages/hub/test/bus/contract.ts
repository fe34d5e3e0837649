/**
 * The bus contract (bus/types.ts), as one suite every backend runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Bus, BusMessage } from '../../src/bus/types.js';

const tick = () => new Promise((r) => setTimeout(r, 20));

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function busContract(name: string, make: () => Promise<Bus>): void {
  const withBus = (title: string, fn: (bus: Bus) => Promise<void>) =>
    test(`${name}: ${title}`, async () => {
      const bus = await make();
      try {
        await fn(bus);
      } finally {
        await bus.close();
      }
    });

  withBus('delivers to exact and wildcard subscribers, not to others', async (bus) => {
    const got: Record<string, string[]> = { exact: [], plus: [], hash: [], other: [] };
    await bus.subscribe('devices/a/telemetry', (m) => got.exact!.push(m.topic));
    await bus.subscribe('devices/+/telemetry', (m) => got.plus!.push(m.topic));
    await bus.subscribe('devices/#', (m) => got.hash!.push(m.topic));
    await bus.subscribe('things/+', (m) => got.other!.push(m.topic));
    await bus.publish('devices/a/telemetry', '{"lux":1}');
    await bus.publish('devices/b/status', '{}');
    await until(() => got.hash!.length === 2);
    await tick();
    assert.deepEqual(got, { exact: ['devices/a/telemetry'], plus: ['devices/a/telemetry'], hash: ['devices/a/telemetry', 'devices/b/status'], other: [] });
  });

  withBus('# matches the parent level; wildcards at the first level skip $ topics', async (bus) => {
    const got: string[] = [];
    const dollar: string[] = [];
    await bus.subscribe('#', (m) => got.push(m.topic));
    await bus.subscribe('$fieldlink/#', (m) => dollar.push(m.topic));
    await bus.publish('$fieldlink/x', 'a');
    await bus.publish('sport', 'b');
    await until(() => dollar.length === 1 && got.length === 1);
    await tick();
    assert.deepEqual(got, ['sport']);
    assert.deepEqual(dollar, ['$fieldlink/x']);
  });

  withBus('payload bytes, qos and receive time arrive intact', async (bus) => {
    let m: BusMessage | undefined;
    await bus.subscribe('bin', (x) => (m = x));
    const bytes = Buffer.from([0, 255, 1, 254]);
    const before = Date.now();
    await bus.publish('bin', bytes, { qos: 1 });
    await until(() => m !== undefined);
    assert.deepEqual([...m!.payload], [...bytes]);
    assert.equal(m!.retained, false);
    assert.ok(m!.ts >= before - 5 && m!.ts <= Date.now() + 5);
  });

  withBus('retained: delivered first on subscribe, replaced, and cleared by an empty payload', async (bus) => {
    await bus.publish('r/1', 'old', { retain: true });
    await bus.publish('r/1', 'new', { retain: true });
    await bus.publish('r/2', 'two', { retain: true });
    await bus.publish('r/3', 'gone', { retain: true });
    await bus.publish('r/3', '', { retain: true });
    const got: [string, string, boolean][] = [];
    await bus.subscribe('r/+', (m) => got.push([m.topic, m.payload.toString(), m.retained]));
    await bus.publish('r/1', 'live');
    await until(() => got.length === 3);
    const retained = got.slice(0, 2).sort();
    assert.deepEqual(retained, [['r/1', 'new', true], ['r/2', 'two', true]]);
    assert.deepEqual(got[2], ['r/1', 'live', false]);
    assert.equal((await bus.retained('r/#')).length, 2);
    const none: string[] = [];
    await bus.subscribe('r/#', (m) => none.push(m.topic), { retained: false });
    await tick();
    assert.deepEqual(none, []);
  });

  withBus('overlapping subscriptions each get the message, as the same object', async (bus) => {
    const seen: BusMessage[] = [];
    await bus.subscribe('a/+', (m) => seen.push(m));
    await bus.subscribe('a/#', (m) => seen.push(m));
    await bus.publish('a/b', 'x');
    await until(() => seen.length === 2);
    assert.equal(seen[0], seen[1]);
  });

  withBus('order per publisher, topic and QoS is kept', async (bus) => {
    for (const qos of [0, 1, 2] as const) {
      const got: number[] = [];
      const s = await bus.subscribe(`seq/${qos}`, (m) => got.push(Number(m.payload.toString())));
      const n = 300;
      await Promise.all(Array.from({ length: n }, (_, i) => bus.publish(`seq/${qos}`, String(i), { qos })));
      await until(() => got.length === n);
      assert.deepEqual(got, Array.from({ length: n }, (_, i) => i), `qos ${qos}`);
      await s.unsubscribe();
    }
  });

  withBus('unsubscribe stops delivery to that subscription only', async (bus) => {
    const a: string[] = [];
    const b: string[] = [];
    const sa = await bus.subscribe('u/#', (m) => a.push(m.topic));
    await bus.subscribe('u/#', (m) => b.push(m.topic));
    await bus.publish('u/1', 'x');
    await until(() => a.length === 1 && b.length === 1);
    await sa.unsubscribe();
    await sa.unsubscribe(); // idempotent
    await bus.publish('u/2', 'y');
    await until(() => b.length === 2);
    await tick();
    assert.deepEqual(a, ['u/1']);
  });
}
