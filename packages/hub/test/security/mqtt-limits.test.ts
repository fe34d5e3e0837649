/**
 * Issue #11 items 12 and 13 (storage): the 1,024-byte topic cap holds on every
 * door (publish, retained, subscribe, will), and retained messages are bounded
 * per identity and in total, with replacement and clearing accounted. The
 * legitimate device d1 and a viewer on /ws keep working throughout.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import { MAX_TOPIC_BYTES } from '@fieldlink/protocol';
import { until, wsUrl, RawClient } from '../helpers.js';
import { mqttHub, type MqttHub } from './mqtt-doors.js';

let h: MqttHub;
let d3Secret: string;
const KiB = 1024;

before(async () => {
  h = await mqttHub({ retainedMaxBytesPerClient: 64 * KiB, retainedMaxTopicsPerClient: 40, retainedMaxBytes: 200 * KiB, retainedMaxTopics: 150 });
  d3Secret = await h.addDevice('d3');
});
after(() => h.stop());

const otto = () => ({ username: 'otto', password: h.s.passwords.otto });
const code = (c: MqttClient, f: string) => c.subscribeAsync(f, { qos: 1 }).then((g) => g[0]!.qos as number, (e: Error) => (/Unspecified error/.test(e.message) ? 128 : -1));
const retainedTopics = async (filter: string) => (await h.s.hub.bus.retained(filter)).map((m) => m.topic);

test('topics over the cap are acknowledged and dropped on every MQTT door: not delivered, not retained', async () => {
  const watcher = await h.connect(h.doors[0]!, { username: h.admin.user, password: h.admin.password, clientId: 'ada-watch' });
  const seen: string[] = [];
  watcher.on('message', (t) => seen.push(t));
  await watcher.subscribeAsync('#', { qos: 1 });
  const browser = await h.browser({ token: h.s.tokens.operator });
  assert.equal((await browser.request('sub', { filter: '#' })).ok, true);
  for (const door of h.doors) {
    const op = await h.connect(door, { ...otto(), clientId: `otto-${door.name}` });
    const dev = await h.connect(door, { username: 'd2', password: h.s.secret.d2, clientId: 'd2' });
    const long = [`lab/${'x'.repeat(MAX_TOPIC_BYTES)}`, `lab/${'y'.repeat(65_000)}`, `lab/${'é'.repeat(600)}`];
    for (const t of long) {
      await op.publishAsync(t, 'over', { qos: 1, retain: true }); // PUBACK arrives [MQTT-3.3.5-2]
      await op.publishAsync(t, 'over', { qos: 0 });
    }
    await dev.publishAsync(`devices/d2/${'z'.repeat(2000)}`, 'over', { qos: 1, retain: true });
    const edge = `lab/${door.name.replace('/', '')}/${'e'.repeat(MAX_TOPIC_BYTES - 6 - door.name.length)}`;
    assert.equal(Buffer.byteLength(edge) <= MAX_TOPIC_BYTES, true);
    await op.publishAsync(edge, 'at the cap', { qos: 1, retain: true });
    await until(() => seen.includes(edge), 5000, 'a topic of exactly the cap is fine');
    await op.publishAsync('lab/after', door.name, { qos: 1 });
    await until(() => seen.includes('lab/after') && browser.msgs('lab/after').length > 0, 5000, 'the connection stays usable');
    assert.ok(!seen.some((t) => Buffer.byteLength(t) > MAX_TOPIC_BYTES || t.split('/').length > 32), `${door.name}: nothing over the cap reached a subscriber`);
    assert.ok(!browser.msgs().some((m) => Buffer.byteLength(String(m.topic)) > MAX_TOPIC_BYTES));
    assert.ok(op.connected && dev.connected, 'both publishers stay connected');
    // more than MAX_TOPIC_LEVELS: Aedes' own guard closes the connection before any hook; the core engine
    // treats it as every topic over the cap: acknowledged and dropped (3.1.1 [MQTT-3.3.5-2]; 5: PUBACK 0x90)
    const deep = Array(40).fill('deep').join('/');
    if (h.engine === 'aedes') {
      const closed = new Promise((r) => op.stream.once('close', r));
      op.publish(deep, 'over', { qos: 1 });
      await closed;
    } else {
      await op.publishAsync(deep, 'over', { qos: 1 });
      await op.publishAsync('lab/after-deep', door.name, { qos: 1 });
      await until(() => seen.includes('lab/after-deep'), 5000, 'still usable after a topic over the level cap');
      assert.ok(op.connected && !seen.includes(deep), `${door.name}: ${deep.split('/').length} levels acknowledged, not delivered`);
    }
    op.end(true);
    await dev.endAsync();
    seen.length = 0;
    await h.legitFlowing();
  }
  const kept = await retainedTopics('#');
  assert.ok(kept.every((t) => Buffer.byteLength(t) <= MAX_TOPIC_BYTES), 'no retained topic over the cap');
  assert.match(await h.metrics(), /fieldlink_errors_total\{door="mqtt",code="INVALID_TOPIC"\} [1-9]/);
  browser.close();
  await watcher.endAsync();
  for (const t of kept.filter((x) => x.startsWith('lab/'))) {
    const clear = await h.connect(h.doors[0]!, { ...otto(), clientId: 'otto-clear' });
    await clear.publishAsync(t, '', { qos: 1, retain: true });
    await clear.endAsync();
  }
});

test('filters over the cap get SUBACK 0x80 on every MQTT door; the same connection subscribes fine afterwards', async () => {
  for (const door of h.doors) {
    const c = await h.connect(door, { username: 'vera', password: h.s.passwords.vera, clientId: `vera-${door.name}` });
    assert.equal(await code(c, `lab/${'f'.repeat(65_000)}`), 128, `${door.name}: 65,000-byte filter`);
    assert.equal(await code(c, `lab/+/${'f'.repeat(MAX_TOPIC_BYTES)}/#`), 128, `${door.name}: wildcards and 1,032 bytes`);
    assert.equal(await code(c, `lab/${'f'.repeat(MAX_TOPIC_BYTES - 4)}`), 1, 'exactly the cap');
    assert.equal(await code(c, 'devices/#'), 1);
    // more than MAX_TOPIC_LEVELS: closed by Aedes' own guard; the core engine refuses it like a filter over the cap
    const deep = Array(33).fill('+').join('/');
    if (h.engine === 'aedes') {
      const closed = new Promise((r) => c.stream.once('close', r));
      c.subscribe(deep);
      await closed;
    } else {
      assert.equal(await code(c, deep), 128, `${door.name}: 33 levels`);
      assert.equal(await code(c, 'devices/+/status'), 1, 'and the connection subscribes fine afterwards');
    }
    c.end(true);
  }
  assert.match(await h.metrics(), /fieldlink_errors_total\{door="mqtt",code="INVALID_FILTER"\} [1-9]/);
  await h.legitFlowing();
});

test('a will topic over the cap (or outside the rules) refuses the CONNECT on every MQTT door', async () => {
  for (const door of h.doors) {
    const will = (topic: string) => ({ username: 'd2', password: h.s.secret.d2, clientId: 'd2', will: { topic, payload: Buffer.from('gone'), qos: 1 as const, retain: true } });
    assert.equal(await h.connack(door, will(`devices/d2/${'w'.repeat(2000)}`)), 5, `${door.name}: long will`);
    assert.equal(await h.connack(door, will(`devices/d2/${'w'.repeat(60_000)}`)), 5);
    assert.equal(await h.connack(door, will('devices/d1/status')), 5, 'a will as another device');
    assert.equal(await h.connack(door, will('$SYS/x')), 5);
    assert.equal(await h.connack(door, will('devices/d2/status')), 0, 'its own status is fine');
  }
  await h.legitFlowing();
});

test('/ws and /ws/device enforce the same cap', async () => {
  const op = await h.browser({ token: h.s.tokens.operator });
  assert.equal((await op.request('pub', { topic: `lab/${'x'.repeat(2000)}`, payload: 1, retain: true })).error?.name, 'INVALID_TOPIC');
  assert.equal((await op.request('sub', { filter: `lab/${'x'.repeat(2000)}` })).error?.name, 'INVALID_FILTER');
  assert.equal((await op.request('pub', { topic: Array(40).fill('d').join('/'), payload: 1 })).error?.name, 'INVALID_TOPIC');
  op.close();
  const dev = await RawClient.open(wsUrl(h.s.hub, '/ws/device'), undefined, { ca: h.ca });
  assert.equal((await dev.request('auth', { device: 'd3', secret: d3Secret })).ok, true);
  assert.equal((await dev.request('pub', { topic: 'x'.repeat(2000), payload: 1 })).error?.name, 'INVALID_TOPIC');
  assert.equal((await dev.request('pub', { topic: 'x'.repeat(MAX_TOPIC_BYTES - 5), payload: 1 })).error?.name, 'INVALID_TOPIC', 'its devices/d3/ prefix counts too');
  assert.equal((await dev.request('pub', { topic: 'ok', payload: 1 })).ok, true);
  dev.close();
  await h.legitFlowing();
});

test('a retained flood from one device is bounded; other devices\' retained messages are still accepted', async () => {
  for (const door of h.doors) {
    const flood = await h.connect(door, { username: 'd2', password: h.s.secret.d2, clientId: 'd2' });
    const big = Buffer.alloc(16 * KiB, 7);
    for (let i = 0; i < 30; i++) await flood.publishAsync(`devices/d2/r/${i}`, big, { qos: 1, retain: true }); // all acknowledged
    for (let i = 0; i < 60; i++) await flood.publishAsync(`devices/d2/s/${i}`, 'x', { qos: 1, retain: true });
    assert.ok(flood.connected, `${door.name}: the flooder stays connected`);
    const mine = await retainedTopics('devices/d2/#');
    const bytes = (await h.s.hub.bus.retained('devices/d2/#')).reduce((n, m) => n + m.payload.length, 0);
    assert.ok(bytes <= 64 * KiB, `${door.name}: d2 holds ${bytes} retained bytes`);
    assert.ok(mine.length <= 40, `${door.name}: d2 holds ${mine.length} retained topics`);
    assert.ok(mine.some((t) => t.startsWith('devices/d2/r/')), 'the first ones, within the limit, were kept');
    // d1 is unaffected: its retained meta is stored and replayed
    await h.legitRetained(`meta-${door.name}`);
    // replacing and clearing are accounted: after clearing, d2 may retain again
    for (const t of mine) await flood.publishAsync(t, '', { qos: 1, retain: true });
    assert.deepEqual(await retainedTopics('devices/d2/#'), []);
    await flood.publishAsync('devices/d2/r/again', big, { qos: 1, retain: true });
    assert.deepEqual(await retainedTopics('devices/d2/r/again'), ['devices/d2/r/again']);
    await flood.publishAsync('devices/d2/r/again', '', { qos: 1, retain: true });
    await flood.endAsync();
    await h.legitFlowing();
  }
  assert.match(await h.metrics(), /fieldlink_retained_refused_total\{reason="owner_bytes"\} [1-9]/);
  assert.match(await h.metrics(), /fieldlink_retained_refused_total\{reason="owner_topics"\} [1-9]/);
});

test('a full account still lets the hub and the device update status: the will replaces the birth', async () => {
  const door = h.doors[0]!;
  const status = (online: boolean) => JSON.stringify({ online, ts: Date.now() });
  const dev = await h.connect(door, { username: 'd2', password: h.s.secret.d2, clientId: 'd2', will: { topic: 'devices/d2/status', payload: Buffer.from(status(false)), qos: 1, retain: true } });
  await dev.publishAsync('devices/d2/status', status(true), { qos: 1, retain: true });
  const big = Buffer.alloc(20 * KiB, 1);
  for (let i = 0; i < 5; i++) await dev.publishAsync(`devices/d2/fill/${i}`, big, { qos: 1, retain: true });
  assert.ok((await retainedTopics('devices/d2/fill/#')).length < 5, 'the account is full');
  dev.stream.destroy(); // no DISCONNECT: the will is published [MQTT-3.1.2-8]
  await until(() => h.s.hub.registry.get('d2')?.online === false, 5000, 'd2 shown offline');
  const [st] = await h.s.hub.bus.retained('devices/d2/status');
  assert.equal((JSON.parse(st!.payload.toString()) as { online: boolean }).online, false);
  const clear = await h.connect(door, { username: 'd2', password: h.s.secret.d2, clientId: 'd2' });
  for (const t of await retainedTopics('devices/d2/fill/#')) await clear.publishAsync(t, '', { qos: 1, retain: true });
  await clear.endAsync();
  await h.legitFlowing();
});

test('/ws and /ws/device: a retained publish over the limit is answered RETAINED_LIMIT', async () => {
  const op = await h.browser({ token: h.s.tokens.operator });
  const payload = 'p'.repeat(30 * KiB);
  const replies = [];
  for (let i = 0; i < 4; i++) replies.push(await op.request('pub', { topic: `lab/ws/${i}`, payload, retain: true }));
  assert.deepEqual(replies.map((r) => r.error?.name ?? 'ok'), ['ok', 'ok', 'RETAINED_LIMIT', 'RETAINED_LIMIT']);
  assert.equal((await op.request('pub', { topic: 'lab/ws/9', payload: 'not retained' })).ok, true, 'without retain it goes through');
  const dev = await RawClient.open(wsUrl(h.s.hub, '/ws/device'), undefined, { ca: h.ca });
  assert.equal((await dev.request('auth', { device: 'd3', secret: d3Secret })).ok, true);
  const devReplies = [];
  for (let i = 0; i < 4; i++) devReplies.push(await dev.request('pub', { topic: `r/${i}`, payload: 'q'.repeat(30 * KiB), retain: true }));
  assert.deepEqual(devReplies.map((r) => r.error?.name ?? 'ok'), ['ok', 'ok', 'RETAINED_LIMIT', 'RETAINED_LIMIT']);
  assert.equal((await dev.request('telemetry', { data: { lux: 1 } })).ok, true, 'the device keeps working');
  for (let i = 0; i < 2; i++) {
    assert.equal((await op.request('pub', { topic: `lab/ws/${i}`, payload: '', retain: true })).ok, true);
    assert.equal((await dev.request('pub', { topic: `r/${i}`, payload: '', retain: true })).ok, true);
  }
  op.close();
  dev.close();
  await h.legitFlowing();
});

test('the total bound holds across identities, and is freed by clearing', async () => {
  const door = h.doors[0]!;
  const publishers = [
    { c: await h.connect(door, { username: 'd2', password: h.s.secret.d2, clientId: 'd2' }), prefix: 'devices/d2/t' },
    { c: await h.connect(door, { username: 'd3', password: d3Secret, clientId: 'd3' }), prefix: 'devices/d3/t' },
    { c: await h.connect(door, { ...otto(), clientId: 'otto-total' }), prefix: 'lab/total' },
    { c: await h.connect(door, { username: h.admin.user, password: h.admin.password, clientId: 'ada-total' }), prefix: 'ops/total' },
  ];
  const chunk = Buffer.alloc(15 * KiB, 2);
  for (const p of publishers) for (let i = 0; i < 4; i++) await p.c.publishAsync(`${p.prefix}/${i}`, chunk, { qos: 1, retain: true });
  const all = await h.s.hub.bus.retained('#');
  const bytes = all.reduce((n, m) => n + m.payload.length + Buffer.byteLength(m.topic), 0);
  assert.ok(bytes <= 200 * KiB, `${bytes} retained bytes in total`);
  assert.match(await h.metrics(), /fieldlink_retained_refused_total\{reason="total_bytes"\} [1-9]/);
  assert.match(await h.metrics(), /fieldlink_retained_bytes [1-9]/);
  for (const p of publishers) {
    for (const m of await h.s.hub.bus.retained(`${p.prefix}/#`)) await p.c.publishAsync(m.topic, '', { qos: 1, retain: true });
    await p.c.endAsync();
  }
  await h.legitRetained('after-total');
  await h.legitFlowing();
});
