import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqttPacket from 'mqtt-packet';
import { Framer } from '../src/framer.js';
import { connect, engine, open } from './helpers.js';

function collect(max = 1 << 20): { f: Framer; packets: Buffer[]; refused: string[] } {
  const packets: Buffer[] = [];
  const refused: string[] = [];
  const f = new Framer(max, { packet: (b) => packets.push(Buffer.from(b)), refuse: (w) => refused.push(w) });
  return { f, packets, refused };
}

const pub = (n: number): Buffer => mqttPacket.generate({ cmd: 'publish', topic: 't', payload: Buffer.alloc(n, 1), qos: 0, retain: false, dup: false });

test('framer: packets split at every byte boundary and packed together come out whole', () => {
  const stream = Buffer.concat([pub(0), pub(200), pub(20_000), mqttPacket.generate({ cmd: 'pingreq' })]);
  for (const step of [1, 2, 3, 7, 127, 128, 4096, stream.length]) {
    const { f, packets } = collect();
    for (let i = 0; i < stream.length; i += step) f.push(stream.subarray(i, i + step));
    assert.deepEqual(packets.map((p) => p.length), [pub(0).length, pub(200).length, pub(20_000).length, 2], `step ${step}`);
    assert.deepEqual(Buffer.concat(packets), stream);
  }
});

test('framer: a packet over the maximum is refused from its fixed header, before the body arrives', () => {
  const { f, packets, refused } = collect(1000);
  const big = pub(5000);
  f.push(big.subarray(0, 4)); // type + remaining length only
  assert.deepEqual(refused, ['too-large']);
  f.push(big.subarray(4));
  assert.equal(packets.length, 0);
});

test('[MQTT-1.5.5-1] a Remaining Length of more than 4 bytes is malformed', () => {
  const { f, refused } = collect();
  f.push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]));
  assert.deepEqual(refused, ['malformed']);
  const slow = collect();
  for (const b of [0x30, 0x80, 0x80, 0x80, 0x80, 0x01]) slow.f.push(Buffer.from([b]));
  assert.deepEqual(slow.refused, ['malformed']);
});

test('[MQTT-3.1.2-?] a packet over maxPacketBytes: v5 DISCONNECT 0x95, others keep being served', async () => {
  const e = engine({ limits: { maxPacketBytes: 512 } });
  const bystander = await connect(e, { version: 5 });
  await bystander.subscribe('t', 0);
  const c = await connect(e, { version: 5 });
  c.publish('t', Buffer.alloc(1000));
  assert.equal((await c.next('disconnect')).reasonCode, 0x95);
  await c.whenClosed;
  await e.publish({ topic: 't', payload: 'still here' });
  assert.equal((await bystander.next('publish')).payload.toString(), 'still here');
  assert.equal(e.counters.packet_too_large, 1);
});

test('[MQTT-4.13.1-1] a malformed packet: v5 DISCONNECT 0x81 and close; 3.1.1: close', async () => {
  const e = engine();
  const c5 = await connect(e, { version: 5 });
  c5.raw(Buffer.from([0x32, 0x03, 0x00, 0x05, 0x61])); // QoS 1 PUBLISH whose topic length runs past the packet
  assert.equal((await c5.next('disconnect')).reasonCode, 0x81);
  await c5.whenClosed;
  const c4 = await connect(e);
  c4.raw(Buffer.from([0x36, 0x02, 0x00, 0x00])); // QoS 3
  await c4.whenClosed;
  assert.equal(e.counters.malformed, 2);
});

test('[MQTT-2.2.2-2] reserved flag bits set: the connection is closed', async () => {
  const e = engine();
  const c = open(e);
  c.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'f', clean: true, keepalive: 0 });
  await c.next('connack');
  c.raw(Buffer.from([0x83, 0x02, 0x00, 0x01])); // SUBSCRIBE with flags 0011 (must be 0010), no payload
  await c.whenClosed;
});
