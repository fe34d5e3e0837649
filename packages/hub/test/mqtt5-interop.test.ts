/**
 * MQTT 5 through the hub on the core engine (`--mqtt-engine core`), with MQTT.js
 * 5 as the peer, on MQTT/TCP and on /mqtt (WebSocket): shared subscriptions,
 * topic aliases both ways, message expiry (decremented while queued, expired
 * messages never delivered), request/response (Response Topic + Correlation Data
 * + User Properties, unaltered), and protocol 4 clients beside protocol 5 ones.
 * Python paho-mqtt and mosquitto_pub/sub: mqtt5-peers.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IClientOptions, IPublishPacket, MqttClient, Packet } from 'mqtt';
import type { Hub } from '../src/hub.js';
import { mqttConnect, startTestHub, until, wsUrl } from './helpers.js';

let hub: Hub;
before(async () => {
  hub = await startTestHub({ mqttEngine: 'core', publishRate: 0 });
});
after(async () => {
  await hub.stop();
});

const doors = {
  tcp: () => `mqtt://127.0.0.1:${hub.mqttPort}`,
  ws: () => wsUrl(hub, '/mqtt'),
};

let n = 0;
const open: MqttClient[] = [];
async function client(door: keyof typeof doors, opts: IClientOptions = {}): Promise<MqttClient> {
  const c = await mqttConnect(doors[door](), { protocolVersion: 5, clientId: `interop-${door}-${++n}`, ...opts });
  open.push(c);
  return c;
}
const end = (c: MqttClient) => new Promise<void>((r) => c.end(false, {}, () => r()));

/** Messages as the application sees them: the topic MQTT.js resolved (an aliased packet's own topic is empty). */
function received(c: MqttClient): IPublishPacket[] {
  const got: IPublishPacket[] = [];
  c.on('message', (topic, _p, packet) => got.push({ ...packet, topic }));
  return got;
}

for (const door of ['tcp', 'ws'] as const) {
  describe(`MQTT 5 over ${door === 'tcp' ? 'TCP' : '/mqtt'}`, () => {
    after(async () => {
      await Promise.all(open.splice(0).map(end));
    });

    test('protocol 4 and protocol 5 clients exchange QoS 0, 1 and 2 messages', async () => {
      const v4 = await client(door, { protocolVersion: 4 });
      const v5 = await client(door);
      const at4 = received(v4);
      const at5 = received(v5);
      await v4.subscribeAsync(`interop/${door}/mix/#`, { qos: 2 });
      await v5.subscribeAsync(`interop/${door}/mix/#`, { qos: 2 });
      for (const qos of [0, 1, 2] as const) {
        await v4.publishAsync(`interop/${door}/mix/from4`, `q${qos}`, { qos });
        await v5.publishAsync(`interop/${door}/mix/from5`, `q${qos}`, { qos });
      }
      await until(() => at4.length === 6 && at5.length === 6, 5000, 'six messages each');
      for (const got of [at4, at5]) {
        // [MQTT-4.6.0-5/6]: order per publisher and topic
        assert.deepEqual(got.filter((p) => p.topic.endsWith('from4')).map((p) => String(p.payload)), ['q0', 'q1', 'q2']);
        assert.deepEqual(got.filter((p) => p.topic.endsWith('from5')).map((p) => String(p.payload)), ['q0', 'q1', 'q2']);
      }
    });

    test('shared subscription $share/{group}/{filter}: each message reaches one member of the group', async () => {
      const a = await client(door);
      const b = await client(door);
      const plain = await client(door);
      const [atA, atB, atPlain] = [received(a), received(b), received(plain)];
      await a.subscribeAsync(`$share/g1/interop/${door}/shared/+`, { qos: 1 });
      await b.subscribeAsync(`$share/g1/interop/${door}/shared/+`, { qos: 1 });
      await plain.subscribeAsync(`interop/${door}/shared/+`, { qos: 1 });
      const pub = await client(door);
      const sent = Array.from({ length: 20 }, (_, i) => `m${i}`);
      for (const m of sent) await pub.publishAsync(`interop/${door}/shared/x`, m, { qos: 1 });
      await until(() => atA.length + atB.length === 20 && atPlain.length === 20, 5000, 'every message once in the group');
      const inGroup = [...atA, ...atB].map((p) => String(p.payload)).sort();
      assert.deepEqual(inGroup, [...sent].sort(), 'no message lost or duplicated within the group');
      assert.ok(atA.length > 0 && atB.length > 0, `both members served (${atA.length}/${atB.length})`);
      assert.deepEqual(atPlain.map((p) => String(p.payload)), sent, 'a plain subscriber still gets all');
    });

    test('topic aliases: the hub accepts them and uses them towards a client that allows them', async () => {
      const sub = await client(door, { properties: { topicAliasMaximum: 4 } });
      const raw: Packet[] = [];
      sub.on('packetreceive', (p) => raw.push(p));
      const got = received(sub);
      await sub.subscribeAsync(`interop/${door}/alias/#`, { qos: 1 });
      const pub = await client(door, { autoAssignTopicAlias: true });
      const sent: Packet[] = [];
      pub.on('packetsend', (p) => sent.push(p));
      const topic = `interop/${door}/alias/a-rather-long-topic-name/that/repeats`;
      for (let i = 0; i < 3; i++) await pub.publishAsync(topic, `a${i}`, { qos: 1 });
      await until(() => got.length === 3, 5000, 'three aliased messages');
      assert.deepEqual(got.map((p) => [p.topic, String(p.payload)]), [[topic, 'a0'], [topic, 'a1'], [topic, 'a2']]);
      const pubs = sent.filter((p): p is IPublishPacket => p.cmd === 'publish');
      assert.ok(pubs[0]!.properties?.topicAlias, 'the hub granted a Topic Alias Maximum in CONNACK, so MQTT.js assigned one');
      assert.equal(pubs[1]!.topic, '', 'MQTT.js sent the later ones by alias only');
      const inbound = raw.filter((p): p is IPublishPacket => p.cmd === 'publish');
      assert.ok(inbound.every((p) => p.properties?.topicAlias !== undefined && p.properties.topicAlias <= 4), 'the hub used aliases within the client\'s maximum');
    });

    test('message expiry: decremented while queued for an offline session, dropped once expired', async () => {
      const id = `interop-expiry-${door}`;
      const first = await client(door, { clientId: id, clean: false, properties: { sessionExpiryInterval: 60 } });
      await first.subscribeAsync(`interop/${door}/expiry/#`, { qos: 1 });
      await end(first);
      const pub = await client(door);
      await pub.publishAsync(`interop/${door}/expiry/long`, 'kept', { qos: 1, properties: { messageExpiryInterval: 30 } });
      await pub.publishAsync(`interop/${door}/expiry/short`, 'gone', { qos: 1, properties: { messageExpiryInterval: 1 } });
      await new Promise((r) => setTimeout(r, 2100)); // the short one's lifetime passes while the session is offline
      const again = await mqttConnectQueued(door, id);
      await until(() => again.got.some((p) => String(p.payload) === 'kept'), 5000, 'the queued message');
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(again.got.map((p) => String(p.payload)), ['kept'], 'the expired message is not delivered');
      const left = again.got[0]!.properties?.messageExpiryInterval;
      assert.ok(left !== undefined && left < 30 && left >= 25, `remaining lifetime forwarded (${left})`);
    });

    test('request/response: Response Topic, Correlation Data and User Properties reach the responder unaltered', async () => {
      const responder = await client(door);
      const requester = await client(door);
      const replyTopic = `interop/${door}/rr/reply/${requester.options.clientId}`;
      responder.on('message', (_t, payload, packet) => {
        const p = packet.properties ?? {};
        void responder.publishAsync(p.responseTopic!, `re:${String(payload)}`, { qos: 1, properties: { correlationData: p.correlationData, userProperties: p.userProperties } });
      });
      await responder.subscribeAsync(`interop/${door}/rr/req`, { qos: 1 });
      const replies = received(requester);
      await requester.subscribeAsync(replyTopic, { qos: 1 });
      const corr = Buffer.from([0, 1, 2, 0xfe, 0xff]);
      const userProperties = { trace: ['t1', 't2'], hop: 'h1' };
      await requester.publishAsync(`interop/${door}/rr/req`, 'ping', {
        qos: 1,
        properties: { responseTopic: replyTopic, correlationData: corr, userProperties, contentType: 'text/plain', payloadFormatIndicator: true },
      });
      await until(() => replies.length === 1, 5000, 'the reply');
      const r = replies[0]!;
      assert.equal(String(r.payload), 're:ping');
      assert.deepEqual(r.properties?.correlationData, corr);
      assert.deepEqual({ ...r.properties?.userProperties }, userProperties, 'user properties in order, repeated keys kept');
      assert.deepEqual(Object.keys(r.properties!.userProperties!), ['trace', 'hop']);
    });
  });
}

/** Reconnect a persistent session and collect what was queued for it (listener attached before CONNACK). */
async function mqttConnectQueued(door: keyof typeof doors, clientId: string): Promise<{ c: MqttClient; got: IPublishPacket[] }> {
  const mqtt = (await import('mqtt')).default;
  const c = mqtt.connect(doors[door](), { protocolVersion: 5, clientId, clean: false, reconnectPeriod: 0, properties: { sessionExpiryInterval: 60 } });
  const got: IPublishPacket[] = [];
  c.on('message', (_t, _p, packet) => got.push(packet));
  await new Promise<void>((res, rej) => {
    c.once('connect', (ack) => (ack.sessionPresent ? res() : rej(new Error('session not present'))));
    c.once('error', rej);
  });
  open.push(c);
  return { c, got };
}

test('a refused MQTT 5 PUBLISH: PUBACK/PUBREC 0x87 without a Reason String by default; with --mqtt-ack-reason-strings, with one', async () => {
  const ack = async (h: Hub, qos: 1 | 2) => {
    const c = await mqttConnect(`mqtt://127.0.0.1:${h.mqttPort}`, { protocolVersion: 5, clientId: `refused-${++n}` });
    const got = await new Promise<{ code?: number; props?: Record<string, unknown> }>((resolve) => {
      c.publish('$Topic/refused', 'x', { qos }, (err, packet) => resolve({ code: (err as { code?: number } | undefined)?.code, props: (packet as { properties?: Record<string, unknown> } | undefined)?.properties }));
    });
    await end(c);
    return got;
  };
  for (const qos of [1, 2] as const) {
    const d = await ack(hub, qos);
    assert.equal(d.code, 0x87, `QoS ${qos}: refused`);
    assert.equal(d.props?.reasonString, undefined, `QoS ${qos}: no Reason String by default`);
  }
  const verbose = await startTestHub({ mqttEngine: 'core', publishRate: 0, mqttAckReasonStrings: true });
  try {
    const v = await ack(verbose, 1);
    assert.equal(v.code, 0x87);
    assert.equal(typeof v.props?.reasonString, 'string', 'the Reason String when asked for');
  } finally {
    await verbose.stop();
  }
});
