/**
 * The bounds of docs/security.md "Bounds", one module at a time, without sockets:
 * the payload shape scan, the log summariser, the fan-out's lingering filters,
 * the registry's and ingest's caps. The doors are attacked in load.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { deviceShapeProblem, scanShape, ShapeGuard } from '../../src/bus/shape.js';
import { LogSummary } from '../../src/log-summary.js';
import { createEmbeddedBus } from '../../src/bus/embedded.js';
import { Fanout, type FanoutTarget } from '../../src/transports/browser/fanout.js';
import { startRegistry, VALUE_CHARS } from '../../src/services/registry.js';
import { SeriesNames } from '../../src/services/ingest.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/storage/index.js';
import { until } from '../helpers.js';

const deep = (n: number, open = '[', close = ']', inner = '') => open.repeat(n) + inner + close.repeat(n);
const LIMITS = { maxDepth: 32, maxKeys: 1000, maxMetaBytes: 16384 };

test('scanShape: depth and keys from the bytes, without recursion, strings and escapes not counted', () => {
  assert.equal(scanShape('{"lux":1,"white":[1,2,{"a":3}]}', 3, 10), undefined);
  assert.equal(scanShape('{"lux":1,"white":[1,2,{"a":3}]}', 2, 10)?.reason, 'too_deep');
  assert.equal(scanShape('{"a":1,"b":2,"c":3}', 5, 2)?.reason, 'too_many_keys');
  // 100,000 levels: V8 parses them, JSON.stringify of the result overflows the stack; the scan just counts
  assert.equal(scanShape(deep(100_000), 32, 1000)?.reason, 'too_deep');
  assert.equal(scanShape(deep(100_000, '{"a":', '}', '1'), 32, Infinity)?.reason, 'too_deep');
  // brackets, colons and escaped quotes inside strings are text
  assert.equal(scanShape(JSON.stringify({ note: deep(5000) + ':::' + '\\"[[' }), 2, 1), undefined);
  assert.equal(scanShape(Buffer.from(JSON.stringify({ s: 'a\\"b', x: [[[1]]] })), 3, 10)?.reason, 'too_deep');
  // not JSON at all: no verdict, the scan stays linear
  assert.equal(scanShape(Buffer.from([0xff, 0x00, 0x22, 0x5b]), 32, 1000), undefined);
});

test('deviceShapeProblem: bounds telemetry, meta (size too) and status; other topics pass', () => {
  const many = JSON.stringify(Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`m${i}`, i])));
  assert.equal(deviceShapeProblem('devices/d1/telemetry', many, LIMITS)?.reason, 'too_many_keys');
  assert.equal(deviceShapeProblem('devices/d1/status', `{"online":${deep(40)}}`, LIMITS)?.reason, 'too_deep');
  assert.equal(deviceShapeProblem('devices/d1/meta', JSON.stringify({ model: 'x'.repeat(20_000) }), LIMITS)?.reason, 'meta_too_large');
  assert.equal(deviceShapeProblem('devices/d1/meta', JSON.stringify({ model: 'VEML7700', metrics: { lux: { unit: 'lx' } } }), LIMITS), undefined);
  assert.equal(deviceShapeProblem('devices/d1/cmd/set', deep(100), LIMITS), undefined);
  assert.equal(deviceShapeProblem('other/topic', deep(100), LIMITS), undefined);
  const g = new ShapeGuard(LIMITS);
  g.check('mqtt', 'devices/d1/telemetry', deep(40));
  g.check('mqtt', 'devices/d1/telemetry', deep(40));
  assert.equal(g.checkFrame('ws', Buffer.from(`{"op":"pub","payload":${deep(32)}}`)), undefined, 'a frame may nest one level more than its payload');
  assert.equal(g.checkFrame('ws', Buffer.from(`{"op":"pub","payload":${deep(33)}}`))?.reason, 'too_deep');
  assert.deepEqual(g.refused, { 'mqtt:too_deep': 2, 'ws:too_deep': 1 });
});

/** A real pino logger writing JSON lines into an array. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const out = new Writable({ write(chunk: Buffer, _e, cb) { for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>); cb(); } });
  return { lines, log: pino({ level: 'info' }, out) };
}
const settle = () => new Promise((r) => setImmediate(r));

test('LogSummary: first occurrence logged, then one counted line per key per interval; quiet keys forgotten', async () => {
  const { lines, log } = capture();
  const s = new LogSummary(log, { intervalMs: 3_600_000 });
  for (let i = 0; i < 10_000; i++) s.warn('denied:mqtt:device:d2', { who: 'device:d2', topic: `t/${i}` }, 'denied');
  s.warn('denied:ws:token:x', { who: 'token:x' }, 'denied');
  await settle();
  assert.equal(lines.length, 2, 'one line per key so far');
  assert.equal(lines[0]!.topic, 't/0');
  s.flush();
  await settle();
  assert.equal(lines.length, 3, 'one summary: the key that repeated');
  assert.equal(lines[2]!.repeated, 9_999);
  assert.equal(lines[2]!.topic, 't/9999', 'the summary carries the last one');
  assert.equal(lines[2]!.msg, 'denied (repeated)');
  assert.equal(s.suppressed, 9_999);
  s.flush(); // nothing new: both keys are forgotten
  s.warn('denied:ws:token:x', { who: 'token:x' }, 'denied');
  await settle();
  assert.equal(lines.length, 4, 'a forgotten key is logged at once again');
  s.close();
});

test('LogSummary: the key map is bounded; further keys share one overflow line', async () => {
  const { lines, log } = capture();
  const s = new LogSummary(log, { intervalMs: 3_600_000, maxKeys: 10 });
  for (let i = 0; i < 5000; i++) s.warn(`k${i}`, { i }, 'denied');
  s.close();
  await settle();
  assert.equal(lines.length, 11, '10 keys logged once, then one overflow summary');
  assert.equal(lines[10]!.repeated, 4990);
});

class Target implements FanoutTarget {
  frames = 0;
  constructor(readonly owner: string) {}
  push(): void {
    this.frames++;
  }
}

test('Fanout: lingering filters are bounded per owner and in total, oldest evicted first; a held filter is never evicted', async () => {
  const bus = await createEmbeddedBus();
  const fanout = new Fanout(bus, { ringSize: 100, lingerMs: 60_000, maxLingering: 25, maxLingeringPerOwner: 10 });
  try {
    const a = new Target('token:a');
    const b = new Target('token:b');
    const c = new Target('token:c');
    await fanout.add(c, 'kept/#');
    for (let i = 0; i < 50; i++) {
      await fanout.add(a, `churn/a/${i}`);
      fanout.remove(a, `churn/a/${i}`);
    }
    assert.equal(fanout.lingering, 10, 'one owner: its own bound');
    assert.equal(fanout.filterCount, 11);
    // the youngest ten are the ones kept: a quick resume of the last filter still works
    assert.ok(fanout.replay('churn/a/49', fanout.epoch, 0) !== undefined);
    assert.equal(fanout.replay('churn/a/0', fanout.epoch, 0), undefined, 'evicted: no resume, the client gets retained values instead');
    for (const t of [b, new Target('token:d'), new Target('token:e')]) {
      for (let i = 0; i < 10; i++) {
        await fanout.add(t, `churn/${t.owner}/${i}`);
        fanout.remove(t, `churn/${t.owner}/${i}`);
      }
    }
    assert.equal(fanout.lingering, 25, 'every owner within its bound, the total bound holds');
    assert.equal(fanout.lingerEvicted, 40 + 15);
    // re-adding a lingering filter takes it out of the count; the held one still delivers
    await fanout.add(b, 'churn/token:e/9');
    assert.equal(fanout.lingering, 24);
    await bus.publish('kept/x', '{"v":1}');
    await until(() => c.frames === 1);
  } finally {
    await fanout.close();
    await bus.close();
  }
});

test('Fanout: lingering off (0) drops an unused filter at once', async () => {
  const bus = await createEmbeddedBus();
  const fanout = new Fanout(bus, { ringSize: 10, lingerMs: 30_000, maxLingering: 0 });
  const t = new Target('x');
  await fanout.add(t, 'a/b');
  fanout.remove(t, 'a/b');
  assert.equal(fanout.filterCount, 0);
  await fanout.close();
  await bus.close();
});

test('registry: shape bounds, device and metric caps, scalar readings cut to size; the list always serialises', async () => {
  const bus = await createEmbeddedBus();
  const reg = await startRegistry(bus, undefined, undefined, { ...LIMITS, maxDevices: 3, maxMetricsPerDevice: 5 });
  try {
    await bus.publish('devices/r1/meta', `{"model":${deep(100_000, '{"a":', '}', '1')}}`, { retain: true });
    await bus.publish('devices/r1/meta', `{"model":${deep(40)}}`, { retain: true });
    await bus.publish('devices/r1/telemetry', `{"lux":${deep(50)}}`);
    await bus.publish('devices/r1/telemetry', JSON.stringify({ lux: 1, a: 2, b: 3, long: 'x'.repeat(10_000), obj: { x: 1 }, __proto__x: 4 }));
    await bus.publish('devices/r1/telemetry', JSON.stringify({ c: 5, d: 6, e: 7 }));
    await bus.publish('devices/r1/telemetry', '{"__proto__":{"polluted":1},"lux":9}');
    for (let i = 2; i <= 6; i++) await bus.publish(`devices/r${i}/telemetry`, '{"lux":1}');
    await until(() => (reg.refused().devices_over_cap ?? 0) === 3, 5000, 'devices over cap');
    const r1 = reg.get('r1')!;
    assert.equal(r1.meta, null, 'the deep meta was not kept');
    assert.deepEqual(Object.keys(r1.last).sort(), ['__proto__x', 'a', 'b', 'long', 'lux']);
    assert.equal(r1.last.lux!.value, 9);
    assert.equal((r1.last.long!.value as string).length, VALUE_CHARS);
    assert.equal(Object.getPrototypeOf(r1.last), Object.prototype);
    assert.equal(reg.list().length, 3);
    assert.ok(JSON.stringify(reg.list()).length < 10_000);
    const r = reg.refused();
    assert.equal(r.meta_too_large, 1);
    assert.equal(r.too_deep, 2);
    assert.equal(r.value_truncated, 1);
    assert.equal(r.value_dropped, 1);
    assert.equal(r.metrics_over_cap, 3);
  } finally {
    await reg.stop();
    await bus.close();
  }
});

test('SeriesNames: at most maxPerDevice names per device and maxDevices devices', () => {
  const n = new SeriesNames(2, 3);
  assert.deepEqual(['a', 'b', 'c', 'd', 'a'].map((m) => n.admit('x', m)), [true, true, true, false, true]);
  assert.equal(n.admit('y', 'a'), true);
  assert.equal(n.admit('z', 'a'), false);
});

test('registry: records stored before the bounds existed are cut to them on load', async () => {
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'fl-bounds-')) });
  const last = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`m${i}`, { value: i, ts: 1 }]));
  await store.upsertDevice({ id: 'old-1', firstSeen: 1, lastSeen: 1, online: true, last, meta: { model: 'x'.repeat(50_000) } });
  await store.upsertDevice({ id: 'old-2', firstSeen: 1, lastSeen: 1, online: true, last: {}, meta: { model: 'ok' } });
  const bus = await createEmbeddedBus();
  const reg = await startRegistry(bus, store, undefined, { ...LIMITS, maxDevices: 100, maxMetricsPerDevice: 10 });
  try {
    assert.equal(Object.keys(reg.get('old-1')!.last).length, 10);
    assert.equal(reg.get('old-1')!.meta, null);
    assert.deepEqual(reg.get('old-2')!.meta, { model: 'ok' });
  } finally {
    await reg.stop();
    await bus.close();
    await store.close();
  }
});
