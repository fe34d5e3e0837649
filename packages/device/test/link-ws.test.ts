import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFleet } from '../src/sim/fleet.js';
import { WsDeviceLink } from '../src/sim/link-ws.js';
import { deviceMeta } from '../src/sim/commands.js';
import { TestDoor } from './helpers/door.js';

test('fleet over the JSON device door: auth, meta, telemetry, commands', async () => {
  const door = await new TestDoor().start();
  const fleet = await startFleet({ url: door.url, count: 3, intervalMs: 100, light: '42' });
  try {
    await door.waitFor(() => new Set(door.telemetry.map((t) => t.device)).size === 3);
    assert.equal(door.metas.size, 3);
    const t = door.telemetry[0]!;
    assert.ok(Math.abs(t.data.lux! - 42) < 0.5 && typeof t.ts === 'number', JSON.stringify(t));
    assert.deepEqual(await door.call('sim-1', 'set_interval', { ms: 1000 }), { op: 'res', id: 'c1', ok: true, result: { intervalMs: 1000 } });
    const bad = await door.call('sim-1', 'nope');
    assert.deepEqual(bad, { op: 'res', id: 'c2', ok: false, error: { message: "unknown method 'nope'" } });
    assert.equal(fleet.stats().connected, 3);
  } finally {
    await fleet.stop();
    await door.stop();
  }
});

test('WsDeviceLink: acknowledged telemetry, rejection on loss, reconnect after a hub restart', async () => {
  const door = await new TestDoor().start();
  const states: boolean[] = [];
  const link = new WsDeviceLink({ url: door.url, deviceId: 'n1', meta: deviceMeta('x'), onCommand: async () => null, onState: (s) => states.push(s), reconnectMs: 50 });
  await link.start();
  await link.telemetry({ lux: 1 }, 1000, { ack: true });
  assert.equal(door.telemetry.at(-1)?.frameId !== undefined, true);
  door.dropAcks = true;
  const lost = link.telemetry({ lux: 2 }, 2000, { ack: true });
  await door.waitFor(() => door.telemetry.length === 2);
  await door.stop();
  await assert.rejects(lost, /connection closed before the hub acknowledged/);
  await assert.rejects(link.telemetry({ lux: 3 }, 3000), /not connected/);
  door.dropAcks = false;
  await door.start(door.port);
  await door.waitFor(() => link.connected);
  await link.telemetry({ lux: 4 }, 4000, { ack: true });
  assert.deepEqual(states, [true, false, true]);
  await link.stop({ graceful: true });
  await door.stop();
});

test('WsDeviceLink start() rejects when the door refuses or is absent', async () => {
  const door = await new TestDoor().start();
  const url = door.url;
  await door.stop();
  const link = new WsDeviceLink({ url, deviceId: 'n1', meta: {}, onCommand: async () => null });
  await assert.rejects(link.start(), /n1: cannot connect to ws:\/\/127\.0\.0\.1:\d+\/ws\/device: .*ECONNREFUSED/);
  await link.stop();
});
