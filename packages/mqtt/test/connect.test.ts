import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqttPacket from 'mqtt-packet';
import { connect, connectEmptyId, engine, open, tick } from './helpers.js';

test('[MQTT-3.1.0-1] a first packet other than CONNECT closes the connection, nothing sent', async () => {
  const e = engine();
  const c = open(e);
  c.send({ cmd: 'pingreq' });
  await c.whenClosed;
  assert.equal(c.received.length, 0);
  assert.equal(e.counters.protocol_errors, 1);
});

test('[MQTT-3.1.0-2] a second CONNECT is a protocol error (v5: DISCONNECT 0x82)', async () => {
  const e = engine();
  const c = await connect(e, { version: 5 });
  c.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'again', clean: true, keepalive: 0 });
  const d = await c.next('disconnect');
  assert.equal(d.reasonCode, 0x82);
  await c.whenClosed;
});

test('[MQTT-3.1.3-8] empty client id with CleanSession 0 is refused (CONNACK return code 2)', async () => {
  const e = engine();
  const c = open(e);
  c.raw(connectEmptyId(4, false));
  c.connack = await c.next('connack');
  assert.equal(c.connack.returnCode, 2);
  await c.whenClosed;
  assert.equal(e.sessions.size, 0);
});

test('[MQTT-3.1.3-6] empty client id with CleanSession 1 gets an id of the server', async () => {
  const e = engine();
  const c = await connect(e, { clientId: '', clean: true });
  assert.equal(c.connack!.returnCode, 0);
  assert.equal(e.sessions.size, 1);
  assert.match([...e.sessions.keys()][0]!, /^fl-/);
});

test('[MQTT-3.2.2-16] v5 empty client id: CONNACK carries the Assigned Client Identifier', async () => {
  const e = engine();
  const c = open(e, 5);
  c.raw(connectEmptyId(5, false, { sessionExpiryInterval: 10 }));
  c.connack = await c.next('connack');
  assert.equal(c.connack!.reasonCode, 0);
  const id = c.connack!.properties?.assignedClientIdentifier;
  assert.ok(id && e.sessions.has(id));
});

test('[MQTT-3.1.2-2] unsupported protocol level: CONNACK return code 1, then close', async () => {
  const e = engine();
  const c = open(e);
  const b = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'x', clean: true, keepalive: 0 });
  b[8] = 6; // protocol level byte
  c.raw(b);
  const a = await c.next('connack');
  assert.equal(a.returnCode, 1);
  await c.whenClosed;
});

test('[MQTT-3.2.2] v5 CONNACK announces the capabilities and limits', async () => {
  const e = engine({ limits: { receiveMaximum: 7, maxPacketBytes: 5000, topicAliasMaximum: 3, serverKeepAlive: 30 } });
  const c = await connect(e, { version: 5, keepalive: 600 });
  const p = c.connack!.properties!;
  assert.equal(p.receiveMaximum, 7);
  assert.equal(p.maximumPacketSize, 5000);
  assert.equal(p.topicAliasMaximum, 3);
  assert.equal(p.serverKeepAlive, 30);
  assert.equal(p.retainAvailable, true);
  assert.equal(p.wildcardSubscriptionAvailable, true);
  assert.equal(p.subscriptionIdentifiersAvailable, true);
  assert.equal(p.sharedSubscriptionAvailable, true);
  assert.equal(p.maximumQoS, undefined, 'maximum QoS 2 is announced by leaving it out');
});

test('[MQTT-3.2.2-21] Server Keep Alive is a maximum: a lower client keep alive is kept and not overridden', async () => {
  const e = engine({ limits: { serverKeepAlive: 60 } });
  const c = await connect(e, { version: 5, keepalive: 5 });
  assert.equal(c.connack!.properties?.serverKeepAlive, undefined);
  const d = await connect(e, { version: 5, keepalive: 120 });
  assert.equal(d.connack!.properties?.serverKeepAlive, 60);
});

test('[MQTT-3.1.4-3] a second connection with the same client id takes over: v5 DISCONNECT 0x8E to the first', async () => {
  const e = engine();
  const a = await connect(e, { version: 5, clientId: 'dup' });
  const b = await connect(e, { version: 5, clientId: 'dup' });
  const d = await a.next('disconnect');
  assert.equal(d.reasonCode, 0x8e);
  await a.whenClosed;
  assert.equal(b.connack!.reasonCode, 0);
  assert.equal(e.connectedClients, 1);
  assert.equal(e.counters.takeovers, 1);
});

test('authenticate sees the existing session owner and can refuse a takeover by another identity', async () => {
  const seen: unknown[] = [];
  const e = engine({ hooks: {
    authenticate: async (i) => {
      seen.push(i.sessionOwner);
      if (i.sessionOwner !== undefined && i.sessionOwner !== i.username) return { ok: false, reasonCode: 0x87 };
      return { ok: true, principal: i.username };
    },
  } });
  const a = await connect(e, { version: 5, clientId: 'dev1', username: 'alice' });
  const b = await connect(e, { version: 5, clientId: 'dev1', username: 'mallory' });
  assert.equal(b.connack!.reasonCode, 0x87);
  await b.whenClosed;
  assert.equal(a.closed, false);
  assert.deepEqual(seen, [undefined, 'alice']);
  a.send({ cmd: 'pingreq' });
  await a.next('pingresp');
});

test('[MQTT-3.1.4-5] packets sent after CONNECT while it is authenticated are processed only after acceptance', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const e = engine({ hooks: { authenticate: async () => { await gate; return { ok: true, principal: 1 }; } } });
  const c = open(e);
  c.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'early', clean: true, keepalive: 0 });
  c.send({ cmd: 'subscribe', messageId: 5, subscriptions: [{ topic: 'a', qos: 0 }] });
  await tick();
  assert.equal(c.received.length, 0);
  release();
  assert.equal((await c.next()).cmd, 'connack');
  assert.equal((await c.next()).cmd, 'suback');
});

test('[MQTT-3.1.4-5] a refused CONNECT processes nothing sent after it', async () => {
  const e = engine({ hooks: { authenticate: async () => ({ ok: false, reasonCode: 0x86 }) } });
  const c = open(e);
  c.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'bad', clean: true, keepalive: 0, username: 'u', password: Buffer.from('p') });
  c.send({ cmd: 'publish', topic: 'x', payload: 'no', qos: 1, messageId: 1, retain: true, dup: false });
  const a = await c.next('connack');
  assert.equal(a.returnCode, 4);
  await c.whenClosed;
  assert.equal((await e.retained('#')).length, 0);
});

test('[MQTT-3.1.2-24] nothing received for 1.5 × keep alive: v5 DISCONNECT 0x8D and close', async () => {
  const e = engine();
  const c = await connect(e, { version: 5, keepalive: 1 });
  const d = await c.next('disconnect', 4000);
  assert.equal(d.reasonCode, 0x8d);
  await c.whenClosed;
  assert.equal(e.counters.keepalive_timeout, 1);
});

test('[MQTT-3.1.2-24] a client that pings in time stays connected', async () => {
  const e = engine();
  const c = await connect(e, { keepalive: 1 });
  for (let i = 0; i < 4; i++) { await tick(500); c.send({ cmd: 'pingreq' }); await c.next('pingresp'); }
  assert.equal(c.closed, false);
});

test('[MQTT-3.12.4-1] PINGREQ is answered PINGRESP', async () => {
  const e = engine();
  const c = await connect(e);
  c.send({ cmd: 'pingreq' });
  await c.next('pingresp');
});

test('[MQTT-3.1.2-?] v5 CONNECT with Authentication Method and no auth hook: CONNACK 0x8C', async () => {
  const e = engine();
  const c = await connect(e, { version: 5, properties: { authenticationMethod: 'SCRAM-SHA-1' } });
  assert.equal(c.connack!.reasonCode, 0x8c);
  await c.whenClosed;
});

test('[MQTT-4.12.0-?] v5 AUTH when CONNECT had no Authentication Method: DISCONNECT 0x82', async () => {
  const e = engine();
  const c = await connect(e, { version: 5 });
  c.send({ cmd: 'auth', reasonCode: 0x19, properties: { authenticationMethod: 'X' } });
  assert.equal((await c.next('disconnect')).reasonCode, 0x82);
});

test('a 3.1.1 refusal maps v5 reasons onto return codes (0x87 → 5, 0x89 → 3)', async () => {
  for (const [rc, want] of [[0x87, 5], [0x89, 3], [0x85, 2], [0x86, 4]] as const) {
    const e = engine({ hooks: { authenticate: async () => ({ ok: false, reasonCode: rc }) } });
    const c = await connect(e);
    assert.equal(c.connack!.returnCode, want);
  }
});

test('a server-to-client packet type from a client is a protocol error (v5 0x82)', async () => {
  const e = engine();
  const c = await connect(e, { version: 5 });
  c.send({ cmd: 'connack', sessionPresent: false, reasonCode: 0 });
  assert.equal((await c.next('disconnect')).reasonCode, 0x82);
});

test('disconnectClient sends v5 DISCONNECT with the reason and closes', async () => {
  const e = engine();
  const c = await connect(e, { version: 5, clientId: 'rev' });
  assert.equal(e.disconnectClient('rev', 0x98, 'revoked'), true);
  const d = await c.next('disconnect');
  assert.equal(d.reasonCode, 0x98);
  assert.equal(d.properties?.reasonString, 'revoked');
  await c.whenClosed;
  assert.equal(e.disconnectClient('rev'), false);
});
