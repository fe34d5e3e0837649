/**
 * The auto-ranging ladder of app note 84323, Fig. 24 ("Designing the VEML7700
 * Into an Application", flow chart for automatic gain and integration time):
 * start at gain x1/8, IT 100 ms; while the ALS count is ≤ 100, raise the gain
 * (1/4, 1, 2) and then the integration time (200, 400, 800 ms); if the first count
 * is above 100, keep gain x1/8, apply the non-linearity correction, and shorten the
 * integration time (50, 25 ms) while the count is above 10,000.
 * Every setting the flow chart can visit is one rung of this ladder, ordered by
 * sensitivity, so "raise" and "lower" are index steps.
 */
import type { Gain, IntegrationTime } from './registers.js';

export interface Rung { gain: Gain; integrationMs: IntegrationTime }

export const LADDER: readonly Rung[] = [
  { gain: '1/8', integrationMs: 25 },
  { gain: '1/8', integrationMs: 50 },
  { gain: '1/8', integrationMs: 100 }, // START_RUNG: the app note's first measurement
  { gain: '1/4', integrationMs: 100 },
  { gain: '1', integrationMs: 100 },
  { gain: '2', integrationMs: 100 },
  { gain: '2', integrationMs: 200 },
  { gain: '2', integrationMs: 400 },
  { gain: '2', integrationMs: 800 },
];

export const START_RUNG = 2;
/** App note Fig. 24: "ALS ≤ 100 counts" → more sensitivity. */
export const LOW_COUNTS = 100;
/** App note Fig. 24: "ALS > 10000 counts" → shorter integration time. */
export const HIGH_COUNTS = 10_000;

/**
 * Next rung for a count read at `rung`, or undefined when the reading is good.
 * At and below START_RUNG the only move down is a shorter IT (the app note's
 * branch); above it a high count steps down one rung, which only happens when a
 * tracking read starts from a previous setting and the light rose meanwhile.
 */
export function nextRung(rung: number, counts: number): number | undefined {
  if (counts <= LOW_COUNTS && rung < LADDER.length - 1) return rung + 1;
  if (counts > HIGH_COUNTS && rung > 0) return rung - 1;
  return undefined;
}

/** The app note applies the correction to readings settled at gain x1/8 with more than 100 counts. */
export function needsCorrection(rung: number, counts: number): boolean {
  return rung <= START_RUNG && counts > LOW_COUNTS;
}

export function rungOf(gain: Gain, integrationMs: IntegrationTime): number | undefined {
  const i = LADDER.findIndex((r) => r.gain === gain && r.integrationMs === integrationMs);
  return i < 0 ? undefined : i;
}
