import { test } from 'node:test';
import assert from 'node:assert/strict';
import { airMass, clearSkyLux, longitudeAt, solarElevation } from '../src/light/sun.js';

test('solar elevation: equinox noon at the equator ~90°, solstice noon at 48°N ~65.3°, night negative', () => {
  assert.ok(Math.abs(solarElevation(Date.UTC(2026, 2, 20, 12, 7), 0, 0) - 90) < 1.5);
  assert.ok(Math.abs(solarElevation(Date.UTC(2026, 5, 21, 12, 2), 48.1, 0) - (90 - 48.1 + 23.44)) < 0.6);
  assert.ok(solarElevation(Date.UTC(2026, 5, 21, 0, 0), 48.1, 0) < -15);
  // Longitude shifts local noon: at 90°E the sun culminates ~6 h earlier in UTC.
  assert.ok(solarElevation(Date.UTC(2026, 5, 21, 6, 0), 48.1, 90) > 60);
});

test('longitudeAt: where it is a given solar hour now (tests use midday, whatever time they run)', () => {
  for (let m = 0; m < 24 * 60; m += 37) {
    const t = Date.UTC(2026, 2, 20, 0, m);
    const noon = longitudeAt(12, t), midnight = longitudeAt(0, t);
    assert.ok(noon >= -180 && noon < 180 && midnight >= -180 && midnight < 180, `${noon} ${midnight}`);
    assert.ok(solarElevation(t, 0, noon) > 85, `equinox, equator, ${m} min: the sun is overhead at ${noon}°`);
    assert.ok(solarElevation(t, 0, midnight) < -85, `and opposite at ${midnight}°`);
  }
});

test('clear-sky illuminance: ~100 klx at high sun, continuous and increasing through the horizon', () => {
  assert.equal(Math.round(airMass(90) * 100) / 100, 1);
  const noon = clearSkyLux(65);
  assert.ok(noon > 90_000 && noon < 125_000, String(noon));
  let prev = 0;
  for (let h = -20; h <= 90; h += 0.5) {
    const v = clearSkyLux(h);
    assert.ok(v >= prev, `not increasing at ${h}°`);
    if (h > -18) assert.ok(v / Math.max(prev, 0.001) < 3, `jump at ${h}°`);
    prev = v;
  }
  assert.ok(clearSkyLux(-6) > 2 && clearSkyLux(-6) < 5, 'end of civil twilight ~3 lx');
});
