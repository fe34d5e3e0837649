import { test } from 'node:test';
import assert from 'node:assert/strict';
import { correctNonLinearity, countsToLux, resolution, uncorrectNonLinearity } from '../src/veml7700/lux.js';
import { GAINS, INTEGRATION_TIMES } from '../src/veml7700/registers.js';

const close = (a: number, b: number, rel = 1e-9) => assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${a} ≉ ${b}`);

// App note 84323 table "Resolution and Maximum Detection Range" (legacy 0.0036 basis), lx/count.
const APP_NOTE_TABLE: Record<string, Record<number, number>> = {
  '2': { 800: 0.0036, 400: 0.0072, 200: 0.0144, 100: 0.0288, 50: 0.0576, 25: 0.1152 },
  '1': { 800: 0.0072, 400: 0.0144, 200: 0.0288, 100: 0.0576, 50: 0.1152, 25: 0.2304 },
  '1/4': { 800: 0.0288, 400: 0.0576, 200: 0.1152, 100: 0.2304, 50: 0.4608, 25: 0.9216 },
  '1/8': { 800: 0.0576, 400: 0.1152, 200: 0.2304, 100: 0.4608, 50: 0.9216, 25: 1.8432 },
};

test('legacy resolution matches the app note table at every gain × IT', () => {
  for (const g of GAINS) for (const it of INTEGRATION_TIMES) close(resolution(g, it, 'legacy-0.0036'), APP_NOTE_TABLE[g]![it]!);
});

test('datasheet Rev 1.7 resolution is 0.0042 at x2/800 ms and scales the same way', () => {
  close(resolution('2', 800), 0.0042);
  for (const g of GAINS) for (const it of INTEGRATION_TIMES) close(resolution(g, it), APP_NOTE_TABLE[g]![it]! * 0.0042 / 0.0036);
  // Full scale at the least sensitive setting: 65535 · 2.1504 ≈ 140.9 klx (Rev 1.7), 120.8 klx (legacy).
  close(resolution('1/8', 25) * 65535, 140926.464);
  close(resolution('1/8', 25, 'legacy-0.0036') * 65535, 120794.112);
});

test('lux for known counts at every gain × IT', () => {
  for (const g of GAINS) for (const it of INTEGRATION_TIMES) {
    close(countsToLux(1000, g, it), 1000 * APP_NOTE_TABLE[g]![it]! * 0.0042 / 0.0036);
    close(countsToLux(1000, g, it, { basis: 'legacy-0.0036' }), 1000 * APP_NOTE_TABLE[g]![it]!);
  }
  close(countsToLux(10000, '1/8', 25, { basis: 'legacy-0.0036', correct: true }), correctNonLinearity(18432));
});

test('non-linearity correction: app note coefficients, increasing, invertible', () => {
  const x = 10000;
  close(correctNonLinearity(x), 6.0135e-13 * x ** 4 - 9.3924e-9 * x ** 3 + 8.1488e-5 * x ** 2 + 1.0023 * x);
  let prev = 0;
  for (let v = 1; v <= 40000; v += 1) {
    const y = correctNonLinearity(v);
    assert.ok(y - prev >= 1.0023 * 0.999, `slope below 1 at ${v}`);
    prev = y;
  }
  for (const lux of [0.5, 10, 1000, 50000, 120000]) close(correctNonLinearity(uncorrectNonLinearity(lux)), lux, 1e-9);
});
