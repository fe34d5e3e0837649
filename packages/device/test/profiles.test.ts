import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LIGHT_PROFILES, cloudFactor, createLight } from '../src/light/profiles.js';
import { hash01, valueNoise } from '../src/light/random.js';

const DAY = Date.UTC(2026, 5, 22);
const HOUR = 3_600_000;

test('deterministic: same seed, same light; different seed, different light', () => {
  for (const p of LIGHT_PROFILES) {
    const a = createLight(p, { seed: 7 });
    const b = createLight(p, { seed: 7 });
    const c = createLight(p, { seed: 8 });
    const ts = Array.from({ length: 50 }, (_, i) => DAY + i * 1_234_567);
    assert.deepEqual(ts.map(a), ts.map(b), p);
    assert.notDeepEqual(ts.map(a), ts.map(c), p);
    assert.ok(ts.map(a).every((v) => Number.isFinite(v) && v >= 0), p);
  }
  assert.equal(hash01(1, 2), hash01(1, 2));
  assert.ok(valueNoise(3, 1.5) >= 0 && valueNoise(3, 1.5) < 1);
});

test('outdoor follows the sun: dark at night, tens of klx at noon, clouds attenuate but never zero', () => {
  const out = createLight('outdoor', { latitude: 48.1, seed: 3 });
  assert.ok(out(DAY + 1 * HOUR) < 1);
  let max = 0;
  for (let m = 0; m < 24 * 60; m += 5) max = Math.max(max, out(DAY + m * 60_000));
  assert.ok(max > 30_000 && max < 130_000, String(max));
  for (let i = 0; i < 1000; i++) {
    const f = cloudFactor(9, DAY + i * 97_000);
    assert.ok(f > 0.1 && f <= 1);
  }
});

test('indoor lamps switch between ~0 and 300–500 lx in the evening; office is ~500 lx on a weekday', () => {
  const home = createLight('indoor', { seed: 5 });
  const evening = Array.from({ length: 36 }, (_, i) => home(DAY + 17 * HOUR + i * 10 * 60_000));
  assert.ok(evening.some((v) => v > 290 && v < 560), 'lamps on sometimes');
  assert.ok(createLight('indoor', { seed: 5 })(DAY + 2 * HOUR) < 5, 'night');
  const office = createLight('office', { seed: 5 })(DAY + 11 * HOUR); // 2026-06-22 is a Monday
  assert.ok(office > 480 && office < 4000, String(office));
  const dark = createLight('dark')(DAY);
  assert.ok(dark > 0.03 && dark < 0.4);
  assert.equal(createLight('412.5')(DAY), 412.5);
  assert.ok(Math.abs(createLight('sunlight')(DAY) - 100_000) < 5_000);
  assert.throws(() => createLight('moonlight'), /unknown light profile 'moonlight'/);
});
