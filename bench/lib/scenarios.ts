/**
 * The scenarios of the side-by-side benchmark, run against one started target.
 * Subscribers live in the `sub` generator and publishers in `pub`, except at
 * max rate: there the subscribers sit beside the publisher, whose in-flight
 * window counts every one of them (flow control sees the slowest reader).
 *
 *  fanout-N   1 publisher at max rate (window of in-flight messages) → N subscribers on `bench/#`
 *  fanin      1,000 devices × 10 msg/s → 1 subscriber
 *  fanin-telemetry  the same on devices/{id}/telemetry → 1 subscriber on devices/+/telemetry: the
 *             hub's services see every message too (registry; with a store, ingest), Mosquitto only routes it
 *  latency    100 msg/s → 100 subscribers (p50/p99/p99.9 at light load)
 *  idle       N idle subscribed clients: server RSS per connection above the baseline
 *  storm      the same N clients drop and reconnect at once: time until all are subscribed
 *  fullpath   devices/…/telemetry at max rate → ingest into the store + 10 browsers
 */
import { measure, staticRow, type Gen, type Row } from './phase.js';
import { sampleAll } from './proc.js';
import type { Running } from './targets.js';

export interface Sizes { durationMs: number; idle: number; fanouts: number[]; window: number }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CONCURRENCY = 200; // handshakes in progress while setting up (not the storm)


async function closeAll(g: Gen): Promise<void> {
  await Promise.all([g.sub.call({ cmd: 'closeAll' }), g.pub.call({ cmd: 'closeAll' })]);
  await sleep(300); // let the server notice the closes before the next baseline
}

export async function fanout(t: Running, g: Gen, n: number, z: Sizes, scenario = `fanout-${n}`, topic = 'bench/0', filter = 'bench/#'): Promise<Row> {
  await g.pub.call({ cmd: 'sub', target: t.sub(filter), n, concurrency: CONCURRENCY });
  const row = await measure(scenario, t, g, n, () =>
    g.pub.call<{ published: number }>({ cmd: 'pubMax', port: t.mqttPort, topic, durationMs: z.durationMs, window: z.window, subscribers: n }).then((r) => r.published));
  await closeAll(g);
  return row;
}

export async function fanin(t: Running, g: Gen, z: Sizes, telemetry = false): Promise<Row> {
  await g.sub.call({ cmd: 'sub', target: t.sub(telemetry ? 'devices/+/telemetry' : 'bench/#'), n: 1 });
  await g.pub.call({ cmd: 'devices', port: t.mqttPort, n: 1000 });
  const row = await measure(telemetry ? 'fanin-telemetry' : 'fanin', t, g, 1, () =>
    g.pub.call<{ published: number }>({ cmd: 'pubRate', rate: 10, durationMs: z.durationMs, topic: telemetry ? 'devices/bench-{i}/telemetry' : 'bench/{i}' }).then((r) => r.published));
  await closeAll(g);
  return row;
}

export async function latency(t: Running, g: Gen, z: Sizes): Promise<Row> {
  await g.sub.call({ cmd: 'sub', target: t.sub('bench/#'), n: 100, concurrency: CONCURRENCY });
  await g.pub.call({ cmd: 'devices', port: t.mqttPort, n: 1 });
  const row = await measure('latency', t, g, 100, () =>
    g.pub.call<{ published: number }>({ cmd: 'pubRate', rate: 100, durationMs: z.durationMs, topic: 'bench/0' }).then((r) => r.published));
  await closeAll(g);
  return row;
}

/** Idle memory, then the storm on the same connections; two rows. */
export async function idleAndStorm(t: Running, g: Gen, z: Sizes): Promise<Row[]> {
  await sleep(500);
  const base = sampleAll(t.pids).rssKb;
  const { ms: connectMs } = await g.sub.call<{ ms: number }>({ cmd: 'sub', target: t.sub('idle/#'), n: z.idle, concurrency: CONCURRENCY });
  await sleep(1500);
  const after = sampleAll(t.pids).rssKb;
  const idle = staticRow('idle', t, z.idle, {
    'KB/conn': Math.round(((after - base) / z.idle) * 100) / 100, 'base MB': Math.round(base / 102.4) / 10, 'setup s': Math.round(connectMs) / 1000,
  }, after / 1024);
  const c0 = sampleAll(t.pids).cpuUs;
  const { ms, n } = await g.sub.call<{ ms: number; n: number }>({ cmd: 'storm', target: t.sub('idle/#') });
  const storm = staticRow('storm', t, n, {
    'all subscribed s': Math.round(ms) / 1000, 'server CPU s': Math.round((sampleAll(t.pids).cpuUs - c0) / 1e4) / 100,
  }, sampleAll(t.pids).rssKb / 1024);
  await closeAll(g);
  return [idle, storm];
}

interface Health { store?: { ingest?: { queued: number; written: number; dropped: number } } }

/** The whole hub path: MQTT/TCP telemetry → bus → ingest → store, and 10 browsers on `devices/+/telemetry`. */
export async function fullpath(t: Running, g: Gen, z: Sizes, url: string | undefined): Promise<Row> {
  const health = async () => (url ? ((await (await fetch(`${url}/healthz`)).json()) as Health).store?.ingest : undefined);
  const before = await health();
  const row = await fanout(t, g, 10, z, 'fullpath', 'devices/bench-0001/telemetry', 'devices/+/telemetry');
  let after = await health();
  for (let i = 0; i < 100 && after && after.queued > 0; i++) {
    await sleep(100);
    after = await health();
  }
  if (before && after) {
    const dropped = after.dropped - before.dropped;
    row.extra = { 'points written': after.written - before.written, 'points dropped': dropped, 'ingest msg/s': Math.round((after.written - before.written) / 2 / row.seconds) };
  }
  return row;
}
