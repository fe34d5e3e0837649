/**
 * The hub's Security through the core engine's hooks (transports/mqtt-core-security.ts),
 * with MQTT.js as the peer on TCP and /mqtt: MQTT 5's ways of saying no, each
 * refusal leaving the connection usable, and a legitimate device publishing
 * throughout. The Aedes hooks are covered by attacks.test.ts (which also runs
 * on the core engine with FIELDLINK_MQTT_ENGINE=core).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt, { type IClientOptions } from 'mqtt';
import { securedHub, type Secured } from './fixture.js';
import { mqttConnect, until, wsUrl } from '../helpers.js';

let s: Secured;
before(async () => {
  s = await securedHub({ mqttEngine: 'core', publishRate: 5 });
});
after(async () => {
  await s.stop();
});

const doors = { tcp: () => `mqtt://127.0.0.1:${s.hub.mqttPort}`, ws: () => wsUrl(s.hub, '/mqtt') };

/** CONNACK of a refused CONNECT: MQTT.js rejects with the reason code (v5) or return code (3.1.1). */
async function refusedWith(url: string, opts: IClientOptions): Promise<number> {
  const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
  try {
    return await new Promise<number>((resolve, reject) => {
      c.once('connect', () => reject(new Error('connected')));
      c.once('error', (e) => resolve((e as { code?: number }).code ?? -1));
    });
  } finally {
    c.end(true);
  }
}

for (const door of ['tcp', 'ws'] as const) {
  test(`${door}: CONNECT refusals are MQTT 5 reason codes (0x86 bad secret, 0x87 no credentials) and 3.1.1 return codes`, async () => {
    assert.equal(await refusedWith(doors[door](), { protocolVersion: 5, username: 'd1', password: 'wrong' }), 0x86);
    assert.equal(await refusedWith(doors[door](), { protocolVersion: 5 }), 0x87);
    assert.equal(await refusedWith(doors[door](), { protocolVersion: 4, username: 'd1', password: 'wrong' }), 4);
  });

  test(`${door}: a refused PUBLISH is PUBACK 0x87 and the connection stays; \`$\` topics are the hub's; SUBSCRIBE outside the grant is 0x87 (3.1.1: 0x80)`, async () => {
    const legit = await mqttConnect(doors[door](), { protocolVersion: 5, clientId: 'd2', username: 'd2', password: s.secret.d2 });
    const watcher = await mqttConnect(doors[door](), { protocolVersion: 5, username: 'token', password: s.tokens.operator });
    const seen: string[] = [];
    watcher.on('message', (t) => seen.push(t));
    await watcher.subscribeAsync('devices/#', { qos: 1 });

    const dev = await mqttConnect(doors[door](), { protocolVersion: 5, clientId: 'd1', username: 'd1', password: s.secret.d1 });
    const acks: number[] = [];
    dev.on('packetreceive', (p) => p.cmd === 'puback' && acks.push(p.reasonCode ?? 0));
    await dev.publishAsync('devices/d2/telemetry', '{"lux":1}', { qos: 1 }).catch(() => undefined); // another device's topic
    await dev.publishAsync('$fieldlink/x', 'x', { qos: 1 }).catch(() => undefined);
    await dev.publishAsync('devices/d1/telemetry', '{"lux":2}', { qos: 1 });
    await legit.publishAsync('devices/d2/telemetry', '{"lux":3}', { qos: 1 });
    assert.deepEqual(acks.slice(0, 2), [0x87, 0x87], 'refused, not closed');
    assert.ok(acks[2] === 0 || acks[2] === 0x10);
    await until(() => seen.filter((t) => t === 'devices/d1/telemetry').length === 1 && seen.includes('devices/d2/telemetry'), 5000, 'allowed messages');
    assert.equal(seen.filter((t) => t === 'devices/d2/telemetry').length, 1, 'the refused publish on d2 was not routed');

    // MQTT.js rejects a v5 SUBACK failure with the packet attached
    const suback = await dev.subscribeAsync('devices/d2/#', { qos: 1 }).then(() => undefined, (e: { packet?: { granted: number[] } }) => e.packet);
    assert.deepEqual(suback?.granted, [0x87]);
    await dev.publishAsync('devices/d1/telemetry', '{"lux":4}', { qos: 1 }); // still connected
    const v311 = await mqttConnect(doors[door](), { protocolVersion: 4, username: 'token', password: s.tokens.viewer });
    assert.equal((await v311.subscribeAsync('devices/#', { qos: 1 }))[0]!.qos, 1);
    const dev311 = await mqttConnect(doors[door](), { protocolVersion: 4, clientId: 'd1', username: 'd1', password: s.secret.d1 });
    const suback311 = await dev311.subscribeAsync('devices/d2/#', { qos: 1 }).then(() => undefined, (e: { packet?: { granted: number[] } }) => e.packet);
    assert.deepEqual(suback311?.granted, [0x80], '[MQTT-3.9.3-2] 3.1.1 failure code');
    await Promise.all([legit, watcher, dev, v311, dev311].map((c) => c.endAsync()));
  });

  test(`${door}: over --publish-rate a PUBLISH is PUBACK 0x97, the connection stays`, async () => {
    const op = await mqttConnect(doors[door](), { protocolVersion: 5, username: 'token', password: s.tokens.operator });
    const acks: number[] = [];
    op.on('packetreceive', (p) => p.cmd === 'puback' && acks.push(p.reasonCode ?? 0));
    for (let i = 0; i < 40; i++) await op.publishAsync(`lab/rate/${door}`, String(i), { qos: 1 }).catch(() => undefined);
    assert.ok(acks.includes(0x97), `some refused for quota: ${acks.join(',')}`);
    assert.ok(acks.filter((a) => a === 0x97).length < 40, 'the burst was served first');
    assert.equal(op.connected, true);
    await op.endAsync();
  });
}
