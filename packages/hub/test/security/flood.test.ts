/**
 * Issue #11 item 9, log flooding: refused publishes cost a --publish-rate token
 * like any publish, and repeated refusals are logged as counted summaries, on
 * every door (MQTT/TCP, /mqtt, /ws, /ws/device). A legitimate device and viewer
 * keep being served throughout. Outcomes only: lines and bytes written, counters.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import { RawClient, mqttConnect, wsUrl } from '../helpers.js';
import { securedHub, type Secured } from './fixture.js';
import { bystanders, countingLog, metric, type Bystanders } from './bystanders.js';

const RATE = 20; // burst: 5 s worth = 100
const FLOOD = 2000;
let s: Secured;
let by: Bystanders;
const counted = countingLog();
const refusalLines = () => counted.lines.filter((l) => l.msg === 'denied' || l.msg === 'payload refused').length;

before(async () => {
  // a summary interval longer than the test: every refusal after the first of its kind is only counted
  s = await securedHub({ publishRate: RATE, logSummaryMs: 600_000, maxPayloadKeys: 50, logLevel: 'warn' }, counted.log);
  by = await bystanders(s);
});
after(async () => {
  await by.close();
  await s.stop();
});

/** Flood forbidden publishes over MQTT, then wait for a QoS 1 PUBACK: publishes are handled in order. */
async function mqttFlood(c: MqttClient, topic: string, payload: string): Promise<void> {
  for (let i = 0; i < FLOOD; i++) c.publish(topic, payload, { qos: 0 });
  await c.publishAsync(topic, payload, { qos: 1 });
}

for (const door of ['mqtt', 'mqtt-ws'] as const) {
  test(`${door}: ${FLOOD} forbidden publishes are rate limited and logged as one line; the device stays connected`, async () => {
    const url = door === 'mqtt' ? `mqtt://127.0.0.1:${s.hub.mqttPort}` : wsUrl(s.hub, '/mqtt');
    const c = await mqttConnect(url, { username: 'd2', password: s.secret.d2 });
    const denied0 = s.hub.security.denied['mqtt:publish'] ?? 0;
    const limited0 = s.hub.security.rateLimited;
    const lines0 = refusalLines();
    const bytes0 = counted.bytes();
    await mqttFlood(c, 'devices/d1/telemetry', JSON.stringify({ lux: -1, pad: 'x'.repeat(200) }));
    const denied = (s.hub.security.denied['mqtt:publish'] ?? 0) - denied0;
    const limited = s.hub.security.rateLimited - limited0;
    assert.equal(denied + limited, FLOOD + 1, 'every publish is either denied or rate limited');
    assert.ok(denied <= 500, `only the rate's worth are even checked (${denied})`);
    assert.ok(refusalLines() - lines0 <= 1, 'one log line for the whole flood');
    assert.ok(counted.bytes() - bytes0 < 4096, `log bytes: ${counted.bytes() - bytes0}`);
    assert.ok(c.connected, 'acknowledged and dropped [MQTT-3.3.5-2]: the connection stays');
    await c.endAsync();
    await by.check();
  });
}

test('mqtt: payloads over the shape bounds, flooded, are rate limited and summarised too', async () => {
  const c = await mqttConnect(`mqtt://127.0.0.1:${s.hub.mqttPort}`, { username: 'd2', password: s.secret.d2 });
  const lines0 = refusalLines();
  const wide = JSON.stringify(Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, i])));
  await mqttFlood(c, 'devices/d2/telemetry', wide);
  assert.ok(refusalLines() - lines0 <= 1);
  assert.ok((await metric(s, 'fieldlink_payload_refused_total', { door: 'mqtt', reason: 'too_many_keys' })) <= 500);
  await c.endAsync();
  await by.check();
});

test('/ws: a flood of forbidden pub requests gets FORBIDDEN for the rate\'s worth, then RATE_LIMITED; one log line', async () => {
  const v = await RawClient.open(wsUrl(s.hub, '/ws'));
  assert.equal((await v.request('auth', { token: s.tokens.viewer })).ok, true);
  const lines0 = refusalLines();
  const replies = await Promise.all(Array.from({ length: 600 }, (_, i) => v.request('pub', { topic: 'devices/d1/cmd/x', payload: { i } }, 20_000)));
  const names = replies.map((r) => r.error?.name);
  const forbidden = names.filter((n) => n === 'FORBIDDEN').length;
  assert.equal(forbidden + names.filter((n) => n === 'RATE_LIMITED').length, 600);
  assert.ok(forbidden >= 1 && forbidden <= 300, `FORBIDDEN ${forbidden}`);
  assert.ok(refusalLines() - lines0 <= 1);
  assert.equal((await v.request('ping')).ok, true, 'still usable');
  v.close();
  await by.check();
});

test('/ws/device: a flood of refused telemetry frames is rate limited and summarised; the socket stays open', async () => {
  const d = await RawClient.open(wsUrl(s.hub, '/ws/device'));
  assert.equal((await d.request('auth', { device: 'd2', secret: s.secret.d2 })).ok, true);
  const lines0 = refusalLines();
  const data = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, i]));
  const replies = await Promise.all(Array.from({ length: 600 }, () => d.request('telemetry', { data }, 20_000)));
  const names = replies.map((r) => r.error?.name);
  const refused = names.filter((n) => n === 'PAYLOAD_LIMIT').length;
  assert.equal(refused + names.filter((n) => n === 'RATE_LIMITED').length, 600);
  assert.ok(refused >= 1 && refused <= 300, `PAYLOAD_LIMIT ${refused}`);
  assert.ok(refusalLines() - lines0 <= 1);
  assert.equal(d.closed, undefined);
  d.close();
  await by.check();
});

test('the summaries: repeated refusals appear as counted lines when the interval ends', async () => {
  const before = counted.lines.length;
  s.hub.security.logs.flush();
  await new Promise((r) => setImmediate(r));
  const summaries = counted.lines.slice(before).filter((l) => typeof l.repeated === 'number');
  assert.ok(summaries.length >= 1 && summaries.length <= 8, `${summaries.length} summary lines`);
  assert.ok(summaries.every((l) => (l.repeated as number) > 0));
  assert.ok((await metric(s, 'fieldlink_log_suppressed_total')) > 0);
  await by.check();
});
