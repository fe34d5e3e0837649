import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, engine, tick } from './helpers.js';

const will = { topic: 'w/status', payload: Buffer.from('offline'), qos: 1 as const, retain: true };

test('[MQTT-3.1.2-8] the will is published when the connection closes without DISCONNECT', async () => {
  const e = engine();
  const watcher = await connect(e);
  await watcher.subscribe('w/#', 1);
  const c = await connect(e, { will });
  c.stream.destroy();
  const p = await watcher.next('publish');
  assert.equal(p.payload.toString(), 'offline');
  assert.equal((await e.retained('w/status')).length, 1, 'will retain flag stores it');
});

test('[MQTT-3.1.2-10] DISCONNECT 0x00 discards the will', async () => {
  const e = engine();
  const watcher = await connect(e);
  await watcher.subscribe('w/#', 1);
  const c = await connect(e, { will });
  c.send({ cmd: 'disconnect' });
  await c.whenClosed;
  assert.ok(await watcher.none('publish', 150));
  assert.equal(e.counters.wills_published, 0);
});

test('v5 DISCONNECT 0x04 (Disconnect with Will Message) publishes the will', async () => {
  const e = engine();
  const watcher = await connect(e);
  await watcher.subscribe('w/#', 1);
  const c = await connect(e, { version: 5, will });
  c.send({ cmd: 'disconnect', reasonCode: 0x04 });
  assert.equal((await watcher.next('publish')).payload.toString(), 'offline');
});

test('the will is published on keep-alive timeout and on protocol errors', async () => {
  const e = engine();
  const watcher = await connect(e);
  await watcher.subscribe('w/#', 0);
  const c = await connect(e, { version: 5, will });
  c.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'x', clean: true, keepalive: 0 });
  assert.equal((await watcher.next('publish')).payload.toString(), 'offline');
});

test('[MQTT-3.1.3-9] v5 Will Delay: a reconnect to the session before the delay cancels the will', async () => {
  const e = engine();
  const watcher = await connect(e);
  await watcher.subscribe('w/#', 0);
  const opts = { version: 5 as const, clientId: 'wd', clean: false, properties: { sessionExpiryInterval: 60 }, will: { ...will, retain: false, properties: { willDelayInterval: 1 } } };
  const c = await connect(e, opts);
  c.stream.destroy();
  await tick(50);
  await connect(e, { ...opts, will: undefined });
  assert.ok(await watcher.none('publish', 1300));
});

test('v5 Will Delay: published after the delay when nobody reconnects', async () => {
  const e = engine();
  const watcher = await connect(e);
  await watcher.subscribe('w/#', 0);
  const c = await connect(e, { version: 5, clientId: 'wd2', clean: false, properties: { sessionExpiryInterval: 60 }, will: { ...will, retain: false, properties: { willDelayInterval: 1 } } });
  c.stream.destroy();
  assert.ok(await watcher.none('publish', 500), 'not before the delay');
  assert.equal((await watcher.next('publish', 3000)).payload.toString(), 'offline');
});

test('v5 Will Delay longer than the session: published when the session ends', async () => {
  const e = engine();
  const watcher = await connect(e);
  await watcher.subscribe('w/#', 0);
  const c = await connect(e, { version: 5, clientId: 'wd3', clean: false, properties: { sessionExpiryInterval: 1 }, will: { ...will, retain: false, properties: { willDelayInterval: 100 } } });
  c.stream.destroy();
  assert.equal((await watcher.next('publish', 3000)).payload.toString(), 'offline');
});

test('a takeover publishes the old connection\'s will (no delay)', async () => {
  const e = engine();
  const watcher = await connect(e);
  await watcher.subscribe('w/#', 0);
  await connect(e, { clientId: 'tk', will });
  await connect(e, { clientId: 'tk' });
  assert.equal((await watcher.next('publish')).payload.toString(), 'offline');
});

test('a will the hook refuses at CONNECT: CONNACK with its code', async () => {
  const e = engine({ hooks: { authorizePublish: (_c, m) => (m.topic === 'w/status' ? 0x87 : 0) } });
  const c = await connect(e, { version: 5, will });
  assert.equal(c.connack!.reasonCode, 0x87);
});

test('a will the authorizePublish hook refuses refuses the CONNECT: v5 with the hook\'s reason, 3.1.1 with return code 5 (not 3: retrying cannot help)', async () => {
  const e = engine({ hooks: { authorizePublish: (_c, m) => (m.topic === 'w/bad' ? 0x90 : m.topic === 'w/shape' ? 0x99 : 0) } });
  const v5 = await connect(e, { version: 5, will: { ...will, topic: 'w/bad' } });
  assert.equal(v5.connack!.reasonCode, 0x90);
  for (const topic of ['w/bad', 'w/shape']) {
    const v4 = await connect(e, { will: { ...will, topic } });
    assert.equal(v4.connack!.returnCode, 5, topic);
  }
  assert.equal((await connect(e, { will })).connack!.returnCode, 0, 'an allowed will connects');
});
