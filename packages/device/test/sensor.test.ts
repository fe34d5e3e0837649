import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../src/clock.js';
import { LightSensor, round } from '../src/sim/sensor.js';

test('emulated sensor reads its light through the driver, auto and fixed gain', async () => {
  const clock = new VirtualClock();
  let lux = 0.8;
  const s = LightSensor.emulated(() => lux, { clock });
  const a = await s.read();
  assert.ok(Math.abs(a.lux - 0.8) < 0.02, JSON.stringify(a));
  lux = 65_000;
  assert.ok(Math.abs((await s.read()).lux - 65_000) / 65_000 < 0.01);
  s.gain = '1/8';
  s.integrationMs = 25;
  const b = await s.read();
  assert.equal(s.driver.config.integrationMs, 25);
  assert.ok(Math.abs(b.lux - 65_000) / 65_000 < 0.01, 'fixed low gain applies the correction');
  const [c, d] = await Promise.all([s.read(), s.read()]);
  assert.equal(c, d, 'concurrent reads share one conversion');
  await s.close();
});

test('round keeps 5 significant digits and at most 3 decimals', () => {
  assert.equal(round(412.5432), 412.54);
  assert.equal(round(0.123456), 0.123);
  assert.equal(round(98765.4321), 98765);
});
