/**
 * The /ws/live frames against their schema (src/node/live-frames.ts): the
 * frames a real node sends (standalone and with a hub, before and after a
 * reading, identify) all pass, and frames with a drifted field do not. The
 * ESP32 sketch's frames are checked with the same function in
 * test/e2e/examples.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { liveFrameProblems } from '../src/node/live-frames.js';
import { startNode } from '../src/node/node.js';
import { startAedes } from './helpers/brokers.js';
import { Observer } from './helpers/observer.js';

async function until(p: () => boolean, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!p()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function liveFrames(url: string): Promise<{ frames: Record<string, unknown>[]; close(): void }> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}ws/live`);
  const frames: Record<string, unknown>[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(d.toString()) as Record<string, unknown>));
  await new Promise((r) => ws.once('open', r));
  return { frames, close: () => ws.close() };
}

test('a node with a hub: hello, readings and identify all match the schema', { timeout: 30_000 }, async () => {
  const b = await startAedes();
  const obs = await Observer.connect(b.url);
  const node = await startNode({ id: 'live-1', hub: b.url, port: 0, light: '300', intervalMs: 100 });
  const early = await liveFrames(node.url); // may arrive before the first reading: hello without latest
  try {
    await until(() => early.frames.filter((f) => f.op === 'reading').length >= 3);
    const late = await liveFrames(node.url); // after readings: hello with latest and history
    await until(() => late.frames.length >= 1);
    assert.equal((await obs.call('live-1', 'identify', {})).ok, true);
    await until(() => late.frames.some((f) => f.op === 'identify'));
    const all = [...early.frames, ...late.frames];
    assert.deepEqual(new Set(all.map((f) => f.op)), new Set(['hello', 'reading', 'identify']));
    const hello = late.frames[0]!;
    assert.equal(hello.op, 'hello');
    assert.ok((hello.history as unknown[]).length >= 3 && 'latest' in hello, JSON.stringify(hello).slice(0, 200));
    for (const f of all) assert.deepEqual(liveFrameProblems(f), [], JSON.stringify(f));
    late.close();
  } finally {
    early.close();
    await node.stop();
    await obs.close();
    await b.close();
  }
});

test('a standalone node: frames match the schema (hub status without url)', { timeout: 30_000 }, async () => {
  const node = await startNode({ id: 'live-2', port: 0, light: 'dark', intervalMs: 100 });
  const c = await liveFrames(node.url);
  try {
    await until(() => c.frames.some((f) => f.op === 'reading'));
    for (const f of c.frames) assert.deepEqual(liveFrameProblems(f), [], JSON.stringify(f));
    const reading = c.frames.find((f) => f.op === 'reading')!;
    assert.deepEqual(reading.hub, { connected: false, buffered: 0, acked: 0, dropped: 0 });
  } finally {
    c.close();
    await node.stop();
  }
});

test('drifted frames are refused, each with the field named', () => {
  const reading = { op: 'reading', ts: 1764072000000, lux: 321.5, white: 530, als: 424, gain: '1/8', integrationMs: 100, hub: { connected: true, buffered: 0 } };
  assert.deepEqual(liveFrameProblems(reading), []);
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['renamed field', { ...reading, lx: 1, lux: undefined }, /lux: missing|lx: not a field/],
    ['extra field', { ...reading, temperature: 20 }, /temperature: not a field/],
    ['gain as a number', { ...reading, gain: 0.125 }, /gain: expected one of/],
    ['integration time not a VEML7700 one', { ...reading, integrationMs: 150 }, /integrationMs/],
    ['lux as text', { ...reading, lux: '321' }, /lux: expected/],
    ['hub without connected', { ...reading, hub: { buffered: 0 } }, /hub: expected connected: missing/],
    ['unknown op', { op: 'telemetry' }, /op: expected one of/],
    ['hello with a bad id', { op: 'hello', id: '-x', model: 'VEML7700', intervalMs: 1000, history: [] }, /id: expected a device id/],
    ['history point without ts', { op: 'hello', id: 'a', model: 'VEML7700', intervalMs: 1000, history: [{ lux: 1 }] }, /history: expected \[0\]: ts: missing/],
    ['identify without until', { op: 'identify' }, /until: missing/],
  ];
  for (const [what, frame, re] of cases) {
    const json = JSON.parse(JSON.stringify(frame)) as unknown; // as it travels: undefined fields vanish
    assert.match(liveFrameProblems(json).join('\n'), re, what);
  }
});
