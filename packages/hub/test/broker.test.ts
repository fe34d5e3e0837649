/**
 * The embedded broker's MQTT 3.1.1 behaviour as users rely on it: persistent
 * sessions (clean=false) keep subscriptions and queue QoS 1 messages while the
 * client is away; keepalive closes a silent client and fires its will; a
 * graceful hub stop tells WebSocket clients with 1001.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { Hub } from '../src/hub.js';
import { RawClient, mqttConnect, startTestHub, until, wsUrl } from './helpers.js';

let hub: Hub;
before(async () => {
  hub = await startTestHub();
});
after(async () => {
  await hub.stop();
});

test('persistent session: subscriptions survive a disconnect and QoS 1 messages wait for the client', async () => {
  const url = `mqtt://127.0.0.1:${hub.mqttPort}`;
  const a = await mqttConnect(url, { clientId: 'persist-1', clean: false });
  await a.subscribeAsync('persist/#', { qos: 1 });
  await a.endAsync();
  const pub = await mqttConnect(url);
  for (const v of ['1', '2', '3']) await pub.publishAsync('persist/x', v, { qos: 1 });
  await pub.endAsync();
  const got: string[] = [];
  const b = await mqttConnect(url, { clientId: 'persist-1', clean: false }, (_t, p) => got.push(p.toString()));
  await until(() => got.length === 3, 5000, 'queued messages');
  assert.deepEqual(got, ['1', '2', '3']);
  await b.endAsync();
});

test('keepalive: a client that goes silent is disconnected after 1.5 × keepalive and its will fires', async () => {
  const watcher = await mqttConnect(`mqtt://127.0.0.1:${hub.mqttPort}`);
  const wills: string[] = [];
  watcher.on('message', (t, p) => wills.push(`${t}=${p}`));
  await watcher.subscribeAsync('devices/silent-1/status');
  // A raw CONNECT with keepalive 1 s and a will, then silence (no PINGREQ).
  const str = (s: string) => Buffer.concat([Buffer.from([0, s.length]), Buffer.from(s)]);
  const body = Buffer.concat([str('MQTT'), Buffer.from([4, 0b0010_0110, 0, 1]), str('silent-1'), str('devices/silent-1/status'), str('{"online":false,"reason":"will"}')]);
  const sock = net.connect(hub.mqttPort, '127.0.0.1');
  sock.on('error', () => undefined);
  sock.resume(); // read (and discard) the CONNACK, so 'close' can follow the server's close
  await new Promise((r) => sock.once('connect', r));
  sock.write(Buffer.concat([Buffer.from([0x10, body.length]), body]));
  await new Promise((r) => sock.once('close', r));
  await until(() => wills.some((w) => w.includes('"reason":"will"')), 5000, 'will after keepalive');
  await watcher.endAsync();
});

test('graceful stop: WebSocket clients are told with close code 1001 (going away)', async () => {
  const own = await startTestHub();
  const c = await RawClient.open(wsUrl(own, '/ws'));
  await own.stop();
  await until(() => c.closed !== undefined);
  assert.equal(c.closed!.code, 1001);
});
