/**
 * The typed client across a hub restart on the same port: it reconnects with
 * backoff, re-subscribes by itself, reports its states, fails in-flight requests
 * with CONNECTION_LOST, and resumes without a gap when the hub can prove it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { FieldlinkClient, FieldlinkError, type MsgPush, type StateEvent } from '@fieldlink/protocol';
import { RawClient, mqttConnect, startTestHub, until, wsUrl } from './helpers.js';

test('reconnect and automatic resubscribe after the hub restarts', async () => {
  let hub = await startTestHub();
  const port = hub.httpPort;
  const c = new FieldlinkClient({ url: wsUrl(hub, '/ws'), WebSocket: WebSocket as never, backoff: { minMs: 50, maxMs: 300 } });
  const states: StateEvent[] = [];
  c.onState((e) => states.push(e));
  await c.connect();
  const got: MsgPush[] = [];
  await c.subscribe('devices/+/telemetry', (m) => got.push(m));
  const pub1 = await mqttConnect(`mqtt://127.0.0.1:${hub.mqttPort}`);
  await pub1.publishAsync('devices/a/telemetry', '{"lux":1}');
  await until(() => got.length === 1);
  await pub1.endAsync();

  await hub.stop();
  await until(() => c.state === 'reconnecting');
  const down = c.ping().then(() => 'ok', (e: unknown) => (e instanceof FieldlinkError ? e.codeName : 'other'));

  hub = await startTestHub({ port });
  await until(() => c.state === 'open', 10_000, 'reconnected');
  assert.equal(await down, 'ok', 'a request made while disconnected is sent once the client is back');
  const pub2 = await mqttConnect(`mqtt://127.0.0.1:${hub.mqttPort}`);
  await pub2.publishAsync('devices/b/telemetry', '{"lux":2}');
  await until(() => got.length === 2, 5000, 'message after resubscribe');
  assert.deepEqual(got[1]!.payload, { lux: 2 });
  const open = states.filter((s) => s.state === 'open');
  assert.equal(open.length, 2);
  assert.equal(open[1]!.reconnected, true);
  assert.ok(states.some((s) => s.state === 'reconnecting' && typeof s.retryInMs === 'number'));
  await pub2.endAsync();
  c.close();
  await hub.stop();
});

test('resume: a client that reconnects with epoch+since gets exactly what it missed', async () => {
  const hub = await startTestHub();
  const a = await RawClient.open(wsUrl(hub, '/ws'));
  const sub = await a.request('sub', { filter: 'r/#' });
  const epoch = (sub.result as { epoch: string }).epoch;
  // a second session keeps the filter subscribed while the first is away
  const keeper = await RawClient.open(wsUrl(hub, '/ws'));
  await keeper.request('sub', { filter: 'r/#' });
  const pub = await mqttConnect(`mqtt://127.0.0.1:${hub.mqttPort}`);
  await pub.publishAsync('r/1', '1');
  await a.waitFor((f) => f.topic === 'r/1');
  const lastSeq = a.msgs().at(-1)!.seq as number;
  a.close();
  for (const v of ['2', '3']) await pub.publishAsync('r/1', v);
  await until(() => keeper.msgs().length === 3);
  const b = await RawClient.open(wsUrl(hub, '/ws'));
  const r = await b.request('sub', { filter: 'r/#', epoch, since: lastSeq });
  assert.equal((r.result as { resumed: boolean }).resumed, true);
  assert.deepEqual(b.msgs().map((m) => m.payload), [2, 3]);
  const other = await b.request('sub', { filter: 'z/#', epoch: 'another-run', since: 5 });
  assert.equal((other.result as { resumed: boolean }).resumed, false, 'another epoch cannot resume');
  await pub.endAsync();
  b.close();
  keeper.close();
  await hub.stop();
});
