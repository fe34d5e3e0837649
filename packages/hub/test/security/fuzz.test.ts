/**
 * Bounded, seeded fuzzing of every door: random and mutated MQTT packets over
 * TCP and /mqtt, random and mutated JSON frames over /ws and /ws/device. The hub
 * must never crash and a legitimate device → browser stream must keep flowing.
 * Reproduce a run with FIELDLINK_FUZZ_SEED=<seed>; FIELDLINK_FUZZ_MS sets the
 * time per door (default 4 s).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { WebSocket } from 'ws';
import type { MqttClient } from 'mqtt';
import { mulberry32 as rng } from '@fieldlink/device';
import type { Hub } from '../../src/hub.js';
import { RawClient, mqttConnect, startTestHub, until, wsUrl } from '../helpers.js';

const SEED = Number(process.env.FIELDLINK_FUZZ_SEED ?? 20261125);
const MS = Number(process.env.FIELDLINK_FUZZ_MS ?? 4000);

const str = (s: string) => Buffer.concat([Buffer.from([s.length >> 8, s.length & 255]), Buffer.from(s)]);
const packet = (type: number, body: Buffer) => {
  const len: number[] = [];
  let n = body.length;
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 128;
    len.push(b);
  } while (n > 0);
  return Buffer.concat([Buffer.from([type, ...len]), body]);
};
const SEEDS_MQTT = [
  packet(0x10, Buffer.concat([str('MQTT'), Buffer.from([4, 2, 0, 30]), str('fuzzer')])),
  packet(0x30, Buffer.concat([str('devices/x/telemetry'), Buffer.from('{"lux":1}')])),
  packet(0x82, Buffer.concat([Buffer.from([0, 1]), str('devices/#'), Buffer.from([1])])),
  packet(0xc0, Buffer.alloc(0)),
  packet(0xe0, Buffer.alloc(0)),
];
const SEEDS_JSON = [
  '{"op":"auth","id":"1"}', '{"op":"sub","id":"2","filter":"devices/+/telemetry"}', '{"op":"pub","id":"3","topic":"a/b","payload":{"x":[1,2,{"y":null}]},"qos":1,"retain":true}',
  '{"op":"history","id":"4","device":"d","metric":"lux","from":"-1h","bucket":"10s"}', '{"op":"call","id":"5","device":"d","method":"m","params":{},"timeout":100}',
  '{"op":"auth","id":"6","device":"fz-1"}', '{"op":"telemetry","id":"7","data":{"lux":1},"ts":1}', '{"op":"res","id":"8","ok":true,"result":1}',
  '{"op":"unsub","id":"9","filter":"#"}', '{"op":"devices","id":"10"}',
];

function mutate(r: () => number, b: Buffer): Buffer {
  const out = Buffer.from(b);
  const k = Math.floor(r() * 4);
  for (let i = 0; i <= k && out.length; i++) out[Math.floor(r() * out.length)] = Math.floor(r() * 256);
  if (r() < 0.2) return out.subarray(0, Math.floor(r() * out.length));
  if (r() < 0.1) return Buffer.concat([out, Buffer.from(Array.from({ length: Math.floor(r() * 64) }, () => Math.floor(r() * 256)))]);
  return out;
}

function jsonCase(r: () => number): string | Buffer {
  const pick = r();
  const base = SEEDS_JSON[Math.floor(r() * SEEDS_JSON.length)]!;
  if (pick < 0.45) return mutate(r, Buffer.from(base)).toString('latin1');
  if (pick < 0.6) return base.replace(/"[a-z]+"/, JSON.stringify(['', '\u0000', 'x'.repeat(2000), '#', '+/+', '\ud800', '🙂', 'Infinity'][Math.floor(r() * 8)]));
  if (pick < 0.7) return '['.repeat(1 + Math.floor(r() * 20000)); // deep nesting
  if (pick < 0.8) return Buffer.from(Array.from({ length: Math.floor(r() * 512) }, () => Math.floor(r() * 256)));
  if (pick < 0.9) return JSON.stringify({ op: base.slice(7, 12), id: String(Math.floor(r() * 5)), [String(r())]: r() < 0.5 ? null : [r(), {}, 'z'] });
  return base;
}

let hub: Hub;
let dev: MqttClient;
let browser: RawClient;
let seq = 0;
before(async () => {
  hub = await startTestHub({ publishRate: 0, authTimeoutMs: 1000 });
  dev = await mqttConnect(`mqtt://127.0.0.1:${hub.mqttPort}`, { clientId: 'legit-dev' });
  browser = await RawClient.open(wsUrl(hub, '/ws'));
  await browser.request('sub', { filter: 'legit/#' });
});
after(async () => {
  browser.close();
  await dev.endAsync();
  await hub.stop();
});

async function stillFlowing(): Promise<void> {
  const v = ++seq;
  await dev.publishAsync('legit/beat', String(v), { qos: 1 });
  await browser.waitFor((f) => f.topic === 'legit/beat' && f.payload === v, 10_000);
  const h = await fetch(`${hub.url}/healthz`);
  assert.equal(h.status, 200);
}

async function fuzzFor(name: string, one: (r: () => number) => Promise<void>): Promise<number> {
  const r = rng(SEED ^ name.length * 7919);
  const end = Date.now() + MS;
  let cases = 0;
  while (Date.now() < end) {
    await Promise.all(Array.from({ length: 8 }, () => one(r).catch(() => undefined)));
    cases += 8;
    if (cases % 200 === 0) await stillFlowing();
  }
  await stillFlowing();
  return cases;
}

const closeSoon = (s: { destroy(): void }) => setTimeout(() => s.destroy(), 50);

test(`fuzz MQTT/TCP (seed ${SEED})`, async (t) => {
  const n = await fuzzFor('tcp', async (r) => {
    const sock = net.connect(hub.mqttPort, '127.0.0.1');
    sock.on('error', () => undefined);
    await new Promise((res) => sock.once('connect', res));
    const pkts = r() < 0.5 ? [SEEDS_MQTT[0]!, mutate(r, SEEDS_MQTT[Math.floor(r() * SEEDS_MQTT.length)]!)] : [mutate(r, SEEDS_MQTT[Math.floor(r() * SEEDS_MQTT.length)]!)];
    sock.write(Buffer.concat(pkts));
    closeSoon(sock);
  });
  t.diagnostic(`${n} cases`);
});

test(`fuzz MQTT over /mqtt (seed ${SEED})`, async (t) => {
  const n = await fuzzFor('mqttws', async (r) => {
    const ws = new WebSocket(wsUrl(hub, '/mqtt'), ['mqtt']);
    ws.on('error', () => undefined);
    await new Promise((res, rej) => (ws.once('open', res), ws.once('error', rej)));
    ws.send(mutate(r, SEEDS_MQTT[Math.floor(r() * SEEDS_MQTT.length)]!), { binary: r() < 0.9 });
    closeSoon({ destroy: () => ws.terminate() });
  });
  t.diagnostic(`${n} cases`);
});

for (const door of ['/ws', '/ws/device']) {
  test(`fuzz JSON frames on ${door} (seed ${SEED})`, async (t) => {
    const n = await fuzzFor(door, async (r) => {
      const ws = new WebSocket(wsUrl(hub, door));
      ws.on('error', () => undefined);
      await new Promise((res, rej) => (ws.once('open', res), ws.once('error', rej)));
      for (let i = 0; i < 5; i++) {
        const c = jsonCase(r);
        ws.send(c, { binary: Buffer.isBuffer(c) && r() < 0.5 });
      }
      closeSoon({ destroy: () => ws.terminate() });
    });
    t.diagnostic(`${n} cases`);
  });
}

test('after the fuzzing the hub still serves everyone', async () => {
  await stillFlowing();
  await until(() => true);
});
