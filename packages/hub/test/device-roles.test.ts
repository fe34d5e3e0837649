/**
 * The device side against the real hub: a sensor node over each door, the
 * `fieldlink sim` command, and the gateway's local sensors.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startNode } from '@fieldlink/device';
import type { Hub } from '../src/hub.js';
import { RawClient, startTestHub, until, wsUrl } from './helpers.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
let hub: Hub;
before(async () => {
  hub = await startTestHub();
});
after(async () => {
  await hub.stop();
});

for (const door of ['ws/device', 'mqtt-tcp', 'mqtt-ws'] as const) {
  test(`sensor node over ${door}: status, meta, telemetry and commands reach browsers`, async () => {
    const url = door === 'ws/device' ? wsUrl(hub, '/ws/device') : door === 'mqtt-tcp' ? `mqtt://127.0.0.1:${hub.mqttPort}` : wsUrl(hub, '/mqtt');
    const id = `node-${door.replace('/', '-')}`;
    const node = await startNode({ id, hub: url, port: 0, intervalMs: 100, light: '250' });
    try {
      await until(() => hub.registry.get(id)?.online === true && hub.registry.get(id)?.last.lux !== undefined, 10_000, 'node online with telemetry');
      const lux = hub.registry.get(id)!.last.lux!.value as number;
      assert.ok(Math.abs(lux - 250) < 25, `lux ${lux} near the emulated 250 lx`);
      assert.equal((hub.registry.get(id)!.meta as { model?: string }).model?.includes('VEML7700'), true);
      const b = await RawClient.open(wsUrl(hub, '/ws'));
      const r = await b.request('call', { device: id, method: 'read_now' });
      assert.equal(r.ok, true, JSON.stringify(r));
      const bad = await b.request('call', { device: id, method: 'set_gain', params: { gain: 'huge' } });
      assert.equal(bad.error?.name, 'DEVICE_ERROR');
      b.close();
      const page = await fetch(node.url);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<html/i);
    } finally {
      await node.stop();
    }
    await until(() => hub.registry.get(id)?.online === false, 10_000, 'offline after stop');
  });
}

function cli(args: string[], untilOut: (s: string) => boolean): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, ...args]);
    let out = '';
    let sent = false;
    const onData = (d: Buffer) => {
      out += d.toString();
      if (!sent && untilOut(out)) {
        sent = true;
        p.kill('SIGTERM');
      }
    };
    p.stdout.on('data', onData);
    p.stderr.on('data', onData);
    const t = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, out });
    });
  });
}

test('fieldlink sim connects N devices to the hub and stops them gracefully on SIGTERM', async () => {
  const r = cli(['sim', '--url', `mqtt://127.0.0.1:${hub.mqttPort}`, '--devices', '5', '--id-prefix', 'clisim-', '--interval-ms', '200'], () =>
    [1, 2, 3, 4, 5].every((n) => hub.registry.get(`clisim-${n}`)?.online === true),
  );
  // the predicate above is checked on output; make sure some output keeps coming
  const res = await r;
  assert.equal(res.code, 0, res.out);
  assert.match(res.out, /fleet connected/);
  await until(() => [1, 2, 3, 4, 5].every((n) => hub.registry.get(`clisim-${n}`)?.online === false), 10_000, 'graceful offline');
});

test('gateway: --local-sensor veml7700@emulated:pi-lux publishes as a device of the hub', async () => {
  let seen = false;
  const res = await cli(['hub', '--port', '0', '--mqtt-port', '-1', '--store', 'none', '--local-sensor', 'veml7700@emulated:pi-lux'], (out) => (seen ||= /local sensor running/.test(out)));
  assert.equal(res.code, 0, res.out);
  assert.ok(seen);
  const bad = await cli(['hub', '--port', '0', '--mqtt-port', '-1', '--store', 'none', '--local-sensor', 'bme280@i2c-1'], () => false);
  assert.equal(bad.code, 2);
  assert.match(bad.out, /--local-sensor "bme280@i2c-1"/);
});
