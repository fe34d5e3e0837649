import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFleet } from '../src/sim/fleet.js';
import { formatFleetStats } from '../src/sim/stats.js';
import { startMosquitto } from './helpers/brokers.js';
import { requirePeers } from '../../../test/e2e/peers.js';
import { Observer } from './helpers/observer.js';

test('fleet --count 1000 connects to mosquitto within 30 s and publishes', { timeout: 90_000 }, async (t) => {
  requirePeers(['mosquitto']); // fails with what to install; never skips
  const m = await startMosquitto();
  const obs = await Observer.connect(m.url, 'devices/sim-1000/#');
  const t0 = Date.now();
  const fleet = await startFleet({ url: m.url, count: 1000, intervalMs: 1000, light: 'outdoor', seed: 7 });
  const connectMs = Date.now() - t0;
  try {
    assert.ok(connectMs < 30_000, `connected in ${connectMs} ms`);
    assert.equal(fleet.stats().connected, 1000);
    await obs.waitFor((x) => x.topic === 'devices/sim-1000/telemetry', 5000);
    await new Promise((r) => setTimeout(r, 2500));
    const s = fleet.stats();
    t.diagnostic(`1000 devices connected to mosquitto in ${connectMs} ms; ${formatFleetStats(s)}`);
    assert.equal(s.errors, 0);
    assert.ok(s.msgsPerSec > 500, formatFleetStats(s));
    const will = obs.waitFor((x) => x.topic === 'devices/sim-1000/status' && x.payload.reason === 'will');
    await fleet.stopDevice('sim-1000', { graceful: false });
    assert.deepEqual((await will).payload, { online: false, ts: 0, reason: 'will' });
  } finally {
    await fleet.stop({ graceful: false });
    await obs.close();
    await m.close();
  }
});
