/**
 * Counts → lux. Resolution (lx per count) scales inversely with gain and
 * integration time from one anchor value at gain x2, IT 800 ms; the app note's
 * table "Resolution and Maximum Detection Range" is exactly that product
 * (doc. 84323, e.g. 0.0036 · 16 · 32 = 1.8432 lx/ct at x1/8, 25 ms).
 *
 * Two anchors exist, selectable as `ResolutionBasis`:
 *  - 'datasheet-1.7' (default): 0.0042 lx/ct. VEML7700 datasheet Rev 1.7 states
 *    this value and notes that the 0.0036 of earlier revisions was wrongly stated.
 *  - 'legacy-0.0036': 0.0036 lx/ct, earlier datasheet revisions and the app note;
 *    used by Adafruit_VEML7700 (MAX_RES), Meshtastic, DFRobot and most libraries.
 * Readings with the two bases differ by 0.0042/0.0036 = +16.7 %.
 */
import { GAIN_VALUE, type Gain, type IntegrationTime } from './registers.js';

export type ResolutionBasis = 'datasheet-1.7' | 'legacy-0.0036';

export const MAX_RESOLUTION: Record<ResolutionBasis, number> = {
  'datasheet-1.7': 0.0042, // VEML7700 datasheet Rev 1.7, "Resolution" at ALS gain x2, IT 800 ms
  'legacy-0.0036': 0.0036, // datasheet before Rev 1.7; app note 84323 resolution table; Adafruit_VEML7700.h MAX_RES
};

/** lx per count for a gain and integration time. */
export function resolution(gain: Gain, integrationMs: IntegrationTime, basis: ResolutionBasis = 'datasheet-1.7'): number {
  return MAX_RESOLUTION[basis] * (2 / GAIN_VALUE[gain]) * (800 / integrationMs);
}

/**
 * Non-linearity correction for high illuminance, app note 84323 ("Designing the
 * VEML7700 Into an Application", correction formula; its Fig. 24 flow chart
 * applies it when the first reading at gain x1/8, IT 100 ms is above 100 counts):
 *   lux = 6.0135e-13·x⁴ − 9.3924e-9·x³ + 8.1488e-5·x² + 1.0023·x,  x = linear lux.
 * Evaluated in Horner form. Strictly increasing for x ≥ 0 (derivative ≥ 1.0023,
 * checked numerically in the tests), so it has a unique inverse.
 */
export function correctNonLinearity(x: number): number {
  return (((6.0135e-13 * x - 9.3924e-9) * x + 8.1488e-5) * x + 1.0023) * x;
}

/**
 * Inverse of correctNonLinearity by Newton's method: the linear lux a chip
 * reports for a true illuminance. Used by the emulated chip so the driver's
 * correction recovers the injected light level.
 */
export function uncorrectNonLinearity(lux: number): number {
  if (lux <= 0) return 0;
  let x = lux / 1.0023;
  for (let i = 0; i < 50; i++) {
    const f = correctNonLinearity(x) - lux;
    const d = ((4 * 6.0135e-13 * x - 3 * 9.3924e-9) * x + 2 * 8.1488e-5) * x + 1.0023;
    const step = f / d;
    x -= step;
    if (Math.abs(step) < 1e-9 * Math.max(1, x)) break;
  }
  return x;
}

export function countsToLux(counts: number, gain: Gain, integrationMs: IntegrationTime, opts: { basis?: ResolutionBasis; correct?: boolean } = {}): number {
  const linear = counts * resolution(gain, integrationMs, opts.basis);
  return opts.correct ? correctNonLinearity(linear) : linear;
}
