import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFleet } from '../src/sim/fleet.js';
import { formatFleetStats } from '../src/sim/stats.js';
import { startAedes, freePort } from './helpers/brokers.js';
import { Observer } from './helpers/observer.js';

test('fleet on embedded Aedes: birth, meta, telemetry, commands, graceful stop and last will', async () => {
  const b = await startAedes();
  const obs = await Observer.connect(b.url);
  const fleet = await startFleet({ url: b.url, count: 5, intervalMs: 200, light: 'office', seed: 42, keepaliveSec: 5 });
  try {
    assert.deepEqual(fleet.ids, ['sim-1', 'sim-2', 'sim-3', 'sim-4', 'sim-5']);
    for (const id of fleet.ids) {
      const st = await obs.waitFor((m) => m.topic === `devices/${id}/status` && m.payload.online === true);
      assert.equal(typeof st.payload.ts, 'number');
      const meta = await obs.waitFor((m) => m.topic === `devices/${id}/meta`);
      assert.deepEqual(Object.keys(meta.payload.methods as object).sort(), ['identify', 'read_now', 'set_gain', 'set_integration', 'set_interval']);
      const t = await obs.waitFor((m) => m.topic === `devices/${id}/telemetry`);
      assert.equal(typeof t.payload.lux, 'number');
      assert.equal(typeof t.payload.white, 'number');
      assert.ok(Math.abs((t.payload.ts as number) - Date.now()) < 5000);
    }
    assert.equal(fleet.stats().connected, 5);

    const ok = await obs.call('sim-2', 'set_interval', { ms: 5000 });
    assert.deepEqual(ok.result, { intervalMs: 5000 });
    const bad = await obs.call('sim-2', 'set_interval', { ms: 5 });
    assert.equal(bad.ok, false);
    assert.match((bad.error as { message: string }).message, /ms must be an integer/);
    const unknown = await obs.call('sim-2', 'self_destruct', {});
    assert.deepEqual(unknown, { id: unknown.id, ok: false, error: { message: "unknown method 'self_destruct'" } });
    const gain = await obs.call('sim-3', 'set_gain', { gain: '1/4' });
    assert.equal((gain.result as { gain: string }).gain, '1/4', 'a fixed gain keeps the integration time auto-ranging had chosen');
    const it = await obs.call('sim-3', 'set_integration', { ms: 25 });
    assert.deepEqual(it.result, { gain: '1/4', integrationMs: 25 });
    const now = await obs.call('sim-3', 'read_now', {});
    assert.equal(typeof (now.result as { lux: number }).lux, 'number');
    assert.equal((await obs.call('sim-1', 'identify', {})).ok, true);

    await fleet.stopDevice('sim-4', { graceful: true });
    const off = await obs.waitFor((m) => m.topic === 'devices/sim-4/status' && m.payload.online === false);
    assert.equal(off.payload.reason, 'shutdown');
    await fleet.stopDevice('sim-5', { graceful: false });
    const will = await obs.waitFor((m) => m.topic === 'devices/sim-5/status' && m.payload.online === false);
    assert.deepEqual(will.payload, { online: false, ts: 0, reason: 'will' });

    const s = fleet.stats();
    assert.equal(s.connected, 3);
    assert.ok(s.sent > 5 && s.errors === 0, formatFleetStats(s));
    assert.match(formatFleetStats({ devices: 1000, connected: 998, sent: 12345, errors: 0, msgsPerSec: 999.6 }), /devices 1,000 · connected 998 · sent 12,345 · 1,000 msg\/s · errors 0/);
  } finally {
    await fleet.stop();
    await obs.close();
    await b.close();
  }
});

test('fleet over MQTT/WebSocket (ws://…/mqtt)', async () => {
  const b = await startAedes();
  const obs = await Observer.connect(b.url);
  const fleet = await startFleet({ url: b.wsUrl, count: 3, intervalMs: 100, light: '250' });
  try {
    const t = await obs.waitFor((m) => m.topic === 'devices/sim-3/telemetry');
    assert.ok(Math.abs((t.payload.lux as number) - 250) < 2, String(t.payload.lux));
  } finally {
    await fleet.stop();
    await obs.close();
    await b.close();
  }
});

test('startFleet rejects clearly when the broker is unreachable, and validates options', async () => {
  const port = await freePort();
  const t0 = Date.now();
  await assert.rejects(startFleet({ url: `mqtt://127.0.0.1:${port}`, count: 3 }), /sim-\d: cannot connect to mqtt:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
  assert.ok(Date.now() - t0 < 3000);
  await assert.rejects(startFleet({ url: 'mqtt://127.0.0.1:1', count: 0 }), /count must be/);
  await assert.rejects(startFleet({ url: 'mqtt://127.0.0.1:1', count: 1, idPrefix: 'bad/' }), /invalid device id/);
  await assert.rejects(startFleet({ url: 'mqtt://127.0.0.1:1', count: 1, light: 'moon' }), /unknown light profile/);
  await assert.rejects(startFleet({ url: 'http://127.0.0.1:1', count: 1 }), /unsupported hub URL scheme/);
});
