/**
 * The core engine's `$SYS` tree (transports/mqtt-sys.ts), as an MQTT client sees
 * it: retained counters named as Mosquitto names them, republished when changed,
 * and client ids announced as connections begin and end. Who may see it is
 * security/mqtt-identity.test.ts (admin only, on every door).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import type { Hub } from '../src/hub.js';
import { mqttConnect, startTestHub, until } from './helpers.js';

let hub: Hub;
before(async () => {
  hub = await startTestHub({ mqttEngine: 'core', publishRate: 0, mqttSysIntervalSec: 1 });
});
after(() => hub.stop());

const url = () => `mqtt://127.0.0.1:${hub.mqttPort}`;
function watch(c: MqttClient): { topic: string; payload: string; retain: boolean }[] {
  const got: { topic: string; payload: string; retain: boolean }[] = [];
  c.on('message', (topic, payload, packet) => got.push({ topic, payload: payload.toString(), retain: packet.retain }));
  return got;
}
const latest = (got: { topic: string; payload: string }[], topic: string) => got.filter((m) => m.topic === `$SYS/broker/${topic}`).at(-1)?.payload;

test('a $SYS/# subscriber gets the retained tree at once: version, uptime, clients, messages, subscriptions, retained', async () => {
  const admin = await mqttConnect(url(), { protocolVersion: 5, clientId: 'sys-admin' });
  const got = watch(admin);
  await admin.subscribeAsync('$SYS/#', { qos: 0 });
  const names = ['version', 'uptime', 'clients/connected', 'clients/total', 'messages/received', 'messages/sent', 'subscriptions/count', 'retained messages/count'];
  await until(() => names.every((n) => latest(got, n) !== undefined), 5000, 'every retained $SYS topic');
  assert.ok(got.filter((m) => names.some((n) => m.topic === `$SYS/broker/${n}`)).every((m) => m.retain), 'sent as retained');
  assert.match(latest(got, 'version')!, /^fieldlink \d+\.\d+\.\d+/);
  assert.match(latest(got, 'uptime')!, /^\d+ seconds$/);
  await until(() => Number(latest(got, 'clients/connected')) === 1, 5000, 'clients/connected counts the subscriber on the next tick');
  await admin.endAsync();
});

test('connections are announced with their client id as they begin and end, and clients/connected follows on the interval', async () => {
  const admin = await mqttConnect(url(), { protocolVersion: 5, clientId: 'sys-watcher' });
  const got = watch(admin);
  await admin.subscribeAsync('$SYS/#', { qos: 0 });
  const before = 1; // the watcher alone (the other tests end their clients)
  await until(() => Number(latest(got, 'clients/connected')) === before, 5000, 'clients/connected counts the watcher');
  const probe = await mqttConnect(url(), { protocolVersion: 4, clientId: 'sys-probe' });
  await until(() => got.some((m) => m.topic === '$SYS/broker/new/clients' && m.payload === 'sys-probe'), 5000, 'new/clients names the probe');
  assert.equal(got.find((m) => m.payload === 'sys-probe')!.retain, false, 'events are not retained');
  await until(() => Number(latest(got, 'clients/connected')) === before + 1, 5000, 'clients/connected counts the probe');
  await probe.endAsync();
  await until(() => got.some((m) => m.topic === '$SYS/broker/disconnect/clients' && m.payload === 'sys-probe'), 5000, 'disconnect/clients names the probe');
  await until(() => Number(latest(got, 'clients/connected')) === before, 5000, 'and the count goes back');
  await admin.endAsync();
});

test('messages/received and messages/sent follow the traffic on the interval', async () => {
  const admin = await mqttConnect(url(), { protocolVersion: 5, clientId: 'sys-traffic' });
  const got = watch(admin);
  await admin.subscribeAsync('$SYS/#', { qos: 0 });
  await admin.subscribeAsync('sys/test/#', { qos: 1 });
  await until(() => latest(got, 'messages/received') !== undefined, 5000, 'retained messages/received');
  const received = Number(latest(got, 'messages/received'));
  for (let i = 0; i < 5; i++) await admin.publishAsync(`sys/test/${i}`, 'x', { qos: 1 });
  await until(() => Number(latest(got, 'messages/received')) >= received + 5, 10_000, 'the 5 PUBLISHes counted');
  assert.ok(Number(latest(got, 'messages/sent')) >= 5, 'and their deliveries');
  await admin.endAsync();
});
