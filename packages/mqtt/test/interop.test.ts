/**
 * Interop with a peer nobody here wrote: MQTT.js 5, protocol 4 and 5, over real TCP
 * (a net server on port 0 that hands its sockets to engine.handle).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import { Engine } from '../src/index.js';

const engine = new Engine({ hooks: { authorizeSubscribe: (_c, f, q) => (f === 'test/nosubscribe' ? 0x87 : q) } });
const server = net.createServer((s) => { s.setNoDelay(true); engine.handle(s, { remote: `${s.remoteAddress}:${s.remotePort}`, transport: 'tcp' }); });
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const port = (server.address() as net.AddressInfo).port;
const clients: MqttClient[] = [];
after(async () => { for (const c of clients) c.end(true); await engine.close(); server.close(); });

async function client(o: IClientOptions): Promise<MqttClient> {
  const c = mqtt.connect({ host: '127.0.0.1', port, reconnectPeriod: 0, connectTimeout: 5000, ...o });
  clients.push(c);
  await new Promise((resolve, reject) => { c.once('connect', resolve); c.once('error', reject); });
  return c;
}

const nextMessage = (c: MqttClient): Promise<[string, Buffer, mqtt.IPublishPacket]> =>
  new Promise((resolve) => c.once('message', (t, p, pk) => resolve([t, p, pk])));

for (const protocolVersion of [4, 5] as const) {
  test(`MQTT.js protocol ${protocolVersion}: subscribe, QoS 0/1/2 publish, retained, unsubscribe`, async () => {
    const sub = await client({ protocolVersion, clientId: `sub${protocolVersion}` });
    const pub = await client({ protocolVersion, clientId: `pub${protocolVersion}` });
    const granted = await sub.subscribeAsync([`i${protocolVersion}/#`], { qos: 2 });
    assert.equal(granted[0]!.qos, 2);
    for (const qos of [0, 1, 2] as const) {
      const got = nextMessage(sub);
      await pub.publishAsync(`i${protocolVersion}/q${qos}`, `m${qos}`, { qos });
      const [t, p, pk] = await got;
      assert.equal(t, `i${protocolVersion}/q${qos}`);
      assert.equal(p.toString(), `m${qos}`);
      assert.equal(pk.qos, qos);
    }
    await pub.publishAsync(`r${protocolVersion}/state`, 'on', { qos: 1, retain: true });
    const late = await client({ protocolVersion });
    const got = nextMessage(late);
    await late.subscribeAsync(`r${protocolVersion}/+`, { qos: 1 });
    const [, p, pk] = await got;
    assert.equal(p.toString(), 'on');
    assert.equal(pk.retain, true);
    await sub.unsubscribeAsync(`i${protocolVersion}/#`);
  });

  test(`MQTT.js protocol ${protocolVersion}: a refused subscription is reported as such (0x80 / 0x87)`, async () => {
    const c = await client({ protocolVersion });
    const granted = await c.subscribeAsync('test/nosubscribe', { qos: 1 }).catch((e: Error) => e);
    if (granted instanceof Error) assert.match(granted.message, /135|0x87|Not authorized|subscribe/i);
    else assert.equal(granted[0]!.qos, 128);
  });

  test(`MQTT.js protocol ${protocolVersion}: a persistent session receives QoS 1 sent while it was offline`, async () => {
    const opts: IClientOptions = protocolVersion === 5
      ? { protocolVersion, clientId: `persist${protocolVersion}`, clean: false, properties: { sessionExpiryInterval: 60 } }
      : { protocolVersion, clientId: `persist${protocolVersion}`, clean: false };
    const a = await client(opts);
    await a.subscribeAsync(`p${protocolVersion}/x`, { qos: 1 });
    await a.endAsync();
    const pub = await client({ protocolVersion });
    await pub.publishAsync(`p${protocolVersion}/x`, 'stored', { qos: 1 });
    const b = mqtt.connect({ host: '127.0.0.1', port, reconnectPeriod: 0, ...opts });
    clients.push(b);
    const [, p] = await nextMessage(b);
    assert.equal(p.toString(), 'stored');
  });
}

test('MQTT.js v5: request/response with Response Topic, Correlation Data and User Properties; shared subscription; topic alias', async () => {
  const responder = await client({ protocolVersion: 5 });
  await responder.subscribeAsync('$share/svc/req/#', { qos: 1 });
  responder.on('message', (_t, payload, pk) => {
    const p = pk.properties!;
    responder.publish(p.responseTopic!, `re:${payload}`, { qos: 1, properties: { correlationData: p.correlationData!, userProperties: p.userProperties! } });
  });
  const requester = await client({ protocolVersion: 5, properties: { topicAliasMaximum: 5 } });
  await requester.subscribeAsync('res/me', { qos: 1 });
  const got = nextMessage(requester);
  await requester.publishAsync('req/ping', 'hello', { qos: 1, properties: { responseTopic: 'res/me', correlationData: Buffer.from('id-1'), userProperties: { trace: 'abc' }, topicAlias: 1 } });
  const [t, p, pk] = await got;
  assert.equal(t, 'res/me');
  assert.equal(p.toString(), 're:hello');
  assert.deepEqual(pk.properties?.correlationData, Buffer.from('id-1'));
  assert.deepEqual({ ...pk.properties?.userProperties }, { trace: 'abc' });
});

test('MQTT.js v5: CONNACK capabilities as parsed by the client', async () => {
  const c = mqtt.connect({ host: '127.0.0.1', port, protocolVersion: 5, reconnectPeriod: 0 });
  clients.push(c);
  const ack = await new Promise<mqtt.IConnackPacket>((resolve) => c.once('connect', resolve));
  assert.equal(ack.reasonCode, 0);
  assert.equal(ack.properties?.sharedSubscriptionAvailable, true);
  assert.equal(ack.properties?.receiveMaximum, 64);
});
