/**
 * Resource limits: a slow consumer that never reads is cut off while a healthy
 * browser keeps its stream; connection caps per IP refuse the excess with 503.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { RawClient, startTestHub, until, wsUrl } from '../helpers.js';

test('slow consumer: oldest pushes are dropped, then the connection is closed with 4008; a healthy browser gets everything', async () => {
  const hub = await startTestHub({ wsSoftLimitBytes: 64 * 1024, wsHardLimitBytes: 1024 * 1024, wsStallTimeoutMs: 1000 });
  const healthy = await RawClient.open(wsUrl(hub, '/ws'));
  await healthy.request('sub', { filter: 'flood/#' });
  const slow = await RawClient.open(wsUrl(hub, '/ws'));
  await slow.request('sub', { filter: 'flood/#' });
  (slow.ws as unknown as { _socket: Socket })._socket.pause(); // never reads again
  const payload = JSON.stringify({ pad: 'x'.repeat(2000) });
  const total = 6000;
  for (let i = 0; i < total; i++) {
    await hub.bus.publish('flood/x', i === total - 1 ? '{"last":true}' : payload);
    if (i % 100 === 0) await new Promise((r) => setTimeout(r, 5)); // a fast but finite stream
  }
  await healthy.waitFor((f) => (f.payload as { last?: boolean })?.last === true, 20_000);
  assert.equal(healthy.msgs('flood/x').length, total, 'the healthy browser lost nothing');
  const health = async () => (await (await fetch(`${hub.url}/healthz`)).json()) as { connections: { browsers: number } };
  let browsers = 2;
  for (let i = 0; i < 100 && browsers > 1; i++) {
    browsers = (await health()).connections.browsers;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(browsers, 1, 'the stalled browser was disconnected');
  const metrics = await (await fetch(`${hub.url}/metrics`)).text();
  const dropped = Number(/^fieldlink_ws_pushes_dropped (\d+)/m.exec(metrics)?.[1] ?? NaN);
  assert.ok(dropped > 0, `the oldest pushes were dropped and counted (${dropped})`);
  healthy.close();
  await hub.stop();
});

test('connection caps: past --max-connections-per-ip upgrades get 503, and slots free up on close', async () => {
  const hub = await startTestHub({ maxConnectionsPerIp: 3 });
  const open = await Promise.all([1, 2, 3].map(() => RawClient.open(wsUrl(hub, '/ws'))));
  const refused = new WebSocket(wsUrl(hub, '/ws'));
  const err = await new Promise<Error>((r) => refused.once('error', r));
  assert.match(err.message, /503/);
  const other = new WebSocket(wsUrl(hub, '/ws'), { localAddress: '127.0.0.3' });
  await new Promise((r, j) => (other.once('open', r), other.once('error', j)));
  other.close();
  open[0]!.close();
  await until(() => open[0]!.closed !== undefined);
  await new Promise((r) => setTimeout(r, 50));
  const again = await RawClient.open(wsUrl(hub, '/ws'));
  assert.equal((await again.request('ping')).ok, true);
  for (const c of [...open, again]) c.close();
  await hub.stop();
});
