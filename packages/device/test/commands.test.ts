import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deviceMeta, runCommand, type CommandTarget, type GainSetting } from '../src/sim/commands.js';
import type { IntegrationTime } from '../src/veml7700/registers.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function target(): Mutable<CommandTarget> & { identified: number } {
  return {
    intervalMs: 1000, gain: 'auto' as GainSetting, integrationMs: 100 as IntegrationTime, identified: 0,
    setInterval(ms) { this.intervalMs = ms; },
    setGain(g) { this.gain = g; },
    setIntegration(ms) { this.integrationMs = ms; },
    identify() { this.identified++; },
    async readNow() { return { lux: 1, white: 2, als: 3 }; },
  };
}

test('meta lists exactly the wire-convention metrics and methods', () => {
  assert.deepEqual(deviceMeta('m'), {
    model: 'm', firmware: 'fieldlink-device/0.1.0',
    metrics: { lux: { unit: 'lx' }, white: { unit: 'counts' }, als: { unit: 'counts' } },
    methods: {
      set_interval: { params: { ms: { type: 'integer', min: 100, max: 3600000 } } },
      set_gain: { params: { gain: { type: 'string', enum: ['1/8', '1/4', '1', '2', 'auto'] } } },
      set_integration: { params: { ms: { type: 'integer', enum: [25, 50, 100, 200, 400, 800] } } },
      identify: {}, read_now: {},
    },
  });
});

test('commands validate params and drive the target; unknown methods are refused', async () => {
  const t = target();
  assert.deepEqual(await runCommand(t, 'set_interval', { ms: 100 }), { intervalMs: 100 });
  await assert.rejects(runCommand(t, 'set_interval', { ms: 99 }), /from 100 to 3600000/);
  await assert.rejects(runCommand(t, 'set_interval', { ms: 1000.5 }), /integer/);
  assert.deepEqual(await runCommand(t, 'set_gain', { gain: '2' }), { gain: '2', integrationMs: 100 });
  await assert.rejects(runCommand(t, 'set_gain', { gain: 2 }), /one of 1\/8, 1\/4, 1, 2, auto/);
  assert.deepEqual(await runCommand(t, 'set_integration', { ms: 800 }), { gain: '2', integrationMs: 800 });
  await assert.rejects(runCommand(t, 'set_integration', { ms: 300 }), /one of 25, 50/);
  assert.deepEqual(await runCommand(t, 'identify', undefined), { identified: true });
  assert.equal(t.identified, 1);
  assert.deepEqual(await runCommand(t, 'read_now', {}), { lux: 1, white: 2, als: 3 });
  await assert.rejects(runCommand(t, 'toString', {}), /unknown method 'toString'/);
  await assert.rejects(runCommand(t, 'set_interval', null), /params.ms/);
});
