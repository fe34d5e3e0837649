// Home Assistant MQTT discovery (--ha-discovery) checked by Python paho, as Home
// Assistant uses it (fixtures/ha_discovery.py validates every config message with
// Jinja2): over MQTT 3.1.1 against the embedded broker, over MQTT 5 against the
// embedded core engine (the default engine), and over MQTT 5 through `--bus` on
// a Mosquitto started here. Also: configs follow
// a meta change and are cleared when a device is removed; off by default.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startFleet } from '@fieldlink/device';
import { startMosquitto } from '../../device/test/helpers/brokers.js';
import { mqttConnect, startTestHub, until } from './helpers.js';

const SCRIPT = fileURLToPath(new URL('./fixtures/ha_discovery.py', import.meta.url));

function check(port: number, proto: '311' | '5', devices: string[]): Promise<{ configs: number; by_component: Record<string, number>; devices: string[]; errors: string[] }> {
  return new Promise((resolve, reject) => {
    const p = spawn('/usr/bin/python3', [SCRIPT, '127.0.0.1', String(port), proto, ...devices], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!)) : reject(new Error(`ha_discovery.py exited ${code}: ${err}`))));
  });
}

// Per simulated VEML7700: 3 sensors (lux, white, als), 2 buttons (identify, read_now),
// 1 number (set_interval), 2 selects (set_gain, set_integration).
const PER_DEVICE = { sensor: 3, button: 2, number: 1, select: 2 };
const times = (n: number) => Object.fromEntries(Object.entries(PER_DEVICE).map(([k, v]) => [k, v * n]));

describe('Home Assistant discovery', () => {
  it('describes every simulated sensor to paho over MQTT 3.1.1 (embedded broker); follows meta changes and removals', async () => {
    const hub = await startTestHub({ haDiscovery: true });
    const fleet = await startFleet({ url: `mqtt://127.0.0.1:${hub.mqttPort}`, count: 3, idPrefix: 'gh-', intervalMs: 200, light: 'indoor' });
    try {
      const r = await check(hub.mqttPort, '311', fleet.ids);
      assert.deepEqual(r.errors, []);
      assert.deepEqual(r.devices, fleet.ids);
      assert.deepEqual(r.by_component, times(3));

      const watcher = await mqttConnect(`mqtt://127.0.0.1:${hub.mqttPort}`);
      const cleared: string[] = [];
      watcher.on('message', (t, p) => p.length === 0 && cleared.push(t));
      await watcher.subscribeAsync('homeassistant/#', { qos: 1 });
      // The meta loses a method and a metric: those two configs are cleared.
      await watcher.publishAsync('devices/gh-1/meta', JSON.stringify({ model: 'x', metrics: { lux: { unit: 'lx' }, white: { unit: 'counts' } }, methods: { read_now: {} } }), { retain: true, qos: 1 });
      await until(() => cleared.length === 5, 5000, 'configs of dropped metric and methods cleared');
      assert.ok(cleared.includes('homeassistant/sensor/fieldlink_gh-1/als/config'));
      // Removing the device (clearing its retained meta) clears the rest.
      await watcher.publishAsync('devices/gh-1/meta', '', { retain: true, qos: 1 });
      await until(() => cleared.length === 8, 5000, 'all configs of the removed device cleared');
      await watcher.endAsync();
    } finally {
      await fleet.stop();
      await hub.stop();
    }
  });

  it('over MQTT 5 against the embedded core engine, as Home Assistant connects', async () => {
    const hub = await startTestHub({ haDiscovery: true, mqttEngine: 'core' });
    const fleet = await startFleet({ url: `mqtt://127.0.0.1:${hub.mqttPort}`, count: 2, idPrefix: 'ha5c-', intervalMs: 200, light: 'indoor' });
    try {
      const r = await check(hub.mqttPort, '5', fleet.ids);
      assert.deepEqual(r.errors, []);
      assert.deepEqual(r.devices, fleet.ids);
      assert.deepEqual(r.by_component, times(2));
    } finally {
      await fleet.stop();
      await hub.stop();
    }
  });

  it('over MQTT 5 through --bus on Mosquitto, as Home Assistant connects', async () => {
    const m = await startMosquitto();
    const hub = await startTestHub({ haDiscovery: true, bus: m.url });
    const fleet = await startFleet({ url: m.url, count: 2, idPrefix: 'ha5-', intervalMs: 200, light: 'indoor' });
    try {
      const r = await check(m.port, '5', fleet.ids);
      assert.deepEqual(r.errors, []);
      assert.deepEqual(r.by_component, times(2));
    } finally {
      await fleet.stop();
      await hub.stop();
      await m.close();
    }
  });

  it('is off by default', async () => {
    const hub = await startTestHub();
    const c = await mqttConnect(`mqtt://127.0.0.1:${hub.mqttPort}`);
    try {
      await c.publishAsync('devices/d/meta', JSON.stringify({ metrics: { lux: { unit: 'lx' } } }), { retain: true, qos: 1 });
      assert.equal((await hub.bus.retained('homeassistant/#')).length, 0);
    } finally {
      await c.endAsync();
      await hub.stop();
    }
  });
});
