import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../src/clock.js';
import { EmulatedI2cBus } from '../src/i2c/emulated-bus.js';
import { Veml7700 } from '../src/veml7700/driver.js';
import { EmulatedVeml7700 } from '../src/veml7700/emulated.js';
import { LADDER } from '../src/veml7700/ladder.js';
import { GAINS, INTEGRATION_TIMES, Reg } from '../src/veml7700/registers.js';
import type { ResolutionBasis } from '../src/veml7700/lux.js';

async function setup(lux: number | ((t: number) => number), resolution: ResolutionBasis = 'datasheet-1.7') {
  const clock = new VirtualClock();
  const chip = new EmulatedVeml7700({ light: lux, clock, resolution });
  const bus = new EmulatedI2cBus().attach(0x10, chip);
  const drv = new Veml7700(bus, { clock, resolution });
  await drv.init();
  return { clock, chip, bus, drv };
}

test('init checks the ID and leaves the chip powered, gain 1/8, IT 100 ms', async () => {
  const { chip, drv } = await setup(100);
  assert.equal((await drv.readId()) & 0xff, 0x81);
  assert.deepEqual(chip.config, { gain: '1/8', integrationMs: 100, persistence: 1, interruptEnable: false, shutdown: false });
  await assert.rejects(new Veml7700(new EmulatedI2cBus()).init(), (e: Error & { code?: string }) => e.code === 'EREMOTEIO');
});

test('a read waits for a full integration window after a change and after a reading', async () => {
  const { clock, drv } = await setup(300);
  await drv.setIntegrationTime(800);
  const t0 = clock.now();
  await drv.read();
  assert.ok(clock.now() - t0 >= 800, `waited ${clock.now() - t0} ms`);
  const t1 = clock.now();
  await drv.read();
  assert.ok(clock.now() - t1 >= 800);
  await drv.setPowerSaving({ enabled: true, mode: 2 });
  await drv.read();
  const t2 = clock.now();
  await drv.read();
  assert.ok(clock.now() - t2 >= 800 + 1000, 'PSM mode 2 adds 1000 ms to the refresh period');
});

test('every gain × IT reads the injected light back (both resolution bases)', async () => {
  for (const basis of ['datasheet-1.7', 'legacy-0.0036'] as const) {
    const { drv } = await setup(37.5, basis);
    for (const gain of GAINS) for (const it of INTEGRATION_TIMES) {
      await drv.setGain(gain);
      await drv.setIntegrationTime(it);
      const r = await drv.read({ correct: true });
      assert.equal(r.gain, gain);
      const quantum = (r.lux / Math.max(r.als, 1)) * 0.6;
      assert.ok(Math.abs(r.lux - 37.5) <= quantum + 37.5 * 1e-6, `${basis} ${gain} ${it}: ${r.lux}`);
    }
  }
});

test('auto-ranging converges from 0.5 lx to 120 klx without saturating, in ≤ 9 readings', async () => {
  for (const lux of [0.5, 1, 3, 10, 46, 100, 400, 1000, 5000, 20000, 50000, 100000, 120000]) {
    const { drv, clock } = await setup(lux);
    const t0 = clock.now();
    const r = await drv.readAuto();
    assert.equal(r.saturated, false, `${lux} lx saturated`);
    assert.ok(r.steps <= LADDER.length, `${lux} lx took ${r.steps} steps`);
    assert.ok(Math.abs(r.lux - lux) / lux < 0.02, `${lux} lx read as ${r.lux} (${r.gain}, ${r.integrationMs} ms, ${r.als} ct)`);
    assert.ok(clock.now() - t0 < 2500, 'worst case is 100+100+100+100+200+400+800 ms, plus margins');
    if (lux >= 1000) assert.equal(r.corrected, true);
  }
});

test('auto-ranging follows the app note flow chart', async () => {
  const dark = await (await setup(0.5)).drv.readAuto();
  assert.deepEqual([dark.gain, dark.integrationMs, dark.steps, dark.corrected], ['2', 800, 7, false]);
  const bright = await (await setup(100000)).drv.readAuto();
  assert.deepEqual([bright.gain, bright.integrationMs, bright.corrected], ['1/8', 25, true]);
  assert.ok(bright.als > 10000 && !bright.saturated, 'at IT 25 ms the flow chart stops shortening even above 10,000 counts');
});

test('tracking auto-range needs one conversion when the light is steady, and follows changes', async () => {
  let lux = 2;
  const { drv } = await setup(() => lux);
  assert.equal((await drv.readAuto({ track: true })).steps, 5);
  assert.equal((await drv.readAuto({ track: true })).steps, 1);
  lux = 80000;
  const r = await drv.readAuto({ track: true });
  assert.ok(Math.abs(r.lux - 80000) / 80000 < 0.02 && !r.saturated, JSON.stringify(r));
});

test('interrupt flags, thresholds and shutdown through the driver', async () => {
  const { drv, chip } = await setup(500);
  await drv.setThresholds(100, 200);
  await drv.setPersistence(2);
  await drv.setInterrupt(true);
  await drv.read();
  await drv.read();
  assert.deepEqual(await drv.readInterrupt(), { low: false, high: true });
  assert.deepEqual(await drv.readInterrupt(), { low: false, high: false }, 'reading clears');
  await drv.shutdown();
  assert.equal(chip.config.shutdown, true);
  await assert.rejects(drv.read(), /shut down/);
  await drv.powerOn();
  assert.ok((await drv.read()).als > 0);
  assert.deepEqual(await drv.syncConfig(), drv.config);
  assert.equal(Reg.ID, 7);
});
