import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqttPacket from 'mqtt-packet';
import { decodePublish, encodePublish } from '../src/publish-codec.js';
import type { QoS } from '../src/types.js';

const TOPICS = ['t', 'devices/bench-0001/telemetry', 'ünïcødé/日本/🙂', 'x'.repeat(300), '$SYS/a/b'];
const SIZES = [0, 1, 100, 127 - 5, 20_000, 2_200_000];
const generate = (topic: string, payload: Buffer, qos: QoS, retain: boolean, dup: boolean, v: 4 | 5) =>
  mqttPacket.generate({ cmd: 'publish', topic, payload, qos, retain, dup, messageId: qos > 0 ? 4242 : undefined } as mqttPacket.IPublishPacket, { protocolVersion: v });

/** What mqtt-packet's parser makes of one whole packet. */
function parsed(b: Buffer, v: 4 | 5): mqttPacket.IPublishPacket {
  const p = mqttPacket.parser({ protocolVersion: v });
  let out: mqttPacket.Packet | undefined;
  p.on('packet', (x: mqttPacket.Packet) => { out = x; });
  p.parse(b);
  return out as mqttPacket.IPublishPacket;
}

test('publish codec: encodePublish writes what mqtt-packet writes (3.1.1 and 5, QoS 0–2, RETAIN, DUP, every Remaining Length size, UTF-8 topics)', () => {
  for (const v of [4, 5] as const) for (const topic of TOPICS) for (const n of SIZES) for (const qos of [0, 1, 2] as const) {
    for (const [retain, dup] of [[false, false], [true, false], [false, true]] as const) {
      const payload = Buffer.alloc(n, 0x61);
      assert.deepEqual(encodePublish(topic, payload, qos, retain, dup, 4242, v === 5), generate(topic, payload, qos, retain, dup, v), `v${v} ${topic.slice(0, 20)} ${n} q${qos} r${retain} d${dup}`);
    }
  }
});

test('publish codec: decodePublish reads what mqtt-packet reads, the payload a view of the packet', () => {
  for (const v of [4, 5] as const) for (const topic of TOPICS) for (const n of [0, 100, 20_000]) for (const qos of [0, 1, 2] as const) {
    const b = generate(topic, Buffer.alloc(n, 0x62), qos, qos === 1, qos === 2, v);
    const mine = decodePublish(b, v === 5)!;
    const theirs = parsed(b, v);
    for (const k of ['topic', 'qos', 'retain', 'dup', 'messageId', 'length'] as const) assert.deepEqual(mine[k], theirs[k], `${k}: v${v} ${n} q${qos}`);
    assert.deepEqual(mine.payload, theirs.payload);
    assert.equal(mine.properties, undefined);
    assert.equal((mine.payload as Buffer).buffer, b.buffer, 'no copy');
  }
});

test('publish codec: what it does not handle goes back to mqtt-packet (null): v5 properties, QoS 3, truncated packets', () => {
  const withProps = mqttPacket.generate({ cmd: 'publish', topic: 't', payload: Buffer.from('x'), qos: 0, retain: false, dup: false, properties: { contentType: 'text/plain' } }, { protocolVersion: 5 });
  assert.equal(decodePublish(withProps, true), null);
  const q3 = Buffer.from(generate('t', Buffer.from('x'), 0, false, false, 4));
  q3[0] = 0x36;
  assert.equal(decodePublish(q3, false), null);
  assert.equal(decodePublish(Buffer.from([0x30, 1, 0]), false), null, 'topic length cut');
  assert.equal(decodePublish(Buffer.from([0x30, 3, 0, 5, 0x61]), false), null, 'topic longer than the packet');
  assert.equal(decodePublish(Buffer.from([0x32, 3, 0, 1, 0x61]), false), null, 'QoS 1 without a packet id');
  assert.equal(decodePublish(Buffer.from([0x30, 3, 0, 1, 0x61]), true), null, 'v5 without a Property Length');
  // ill-formed UTF-8 decodes as mqtt-packet decodes it (U+FFFD), which checkTopicName refuses
  const bad = Buffer.from([0x30, 5, 0, 2, 0xc3, 0x28, 0x7a]);
  assert.equal(decodePublish(bad, false)!.topic, parsed(bad, 4).topic);
});
