/**
 * Named light profiles: a LightFn maps time (ms since epoch) to true
 * illuminance in lux, deterministically from a seed, so a simulated fleet shows
 * the same day every run and devices with different seeds differ.
 *
 *   outdoor   sun at `latitude`/`longitude` (sun.ts) under drifting clouds
 *   sunlight  direct midday sun, ~100 klx, with small cloudless fluctuation
 *   indoor    home: lamps (300–500 lx) switched on and off in the evening and
 *             some mornings, plus daylight through a window (~1.5 % of outdoor)
 *   office    ceiling lights ~500 lx on weekdays 08–18 (local solar time), window daylight 3 %
 *   dark      a dark room: 0.05–0.3 lx drifting
 *   <number>  that constant, exactly (no noise): handy for tests
 * All but the constant add sensor-independent "scene" noise of about 1 %.
 */
import { hash01, hashNormal, valueNoise } from './random.js';
import { clearSkyLux, solarElevation } from './sun.js';

export type LightFn = (t: number) => number;

export interface LightOptions {
  latitude?: number;
  longitude?: number;
  seed?: number;
}

export const LIGHT_PROFILES = ['outdoor', 'sunlight', 'indoor', 'office', 'dark'] as const;
export type LightProfile = (typeof LIGHT_PROFILES)[number];

const MIN = 60_000;
const HOUR = 3_600_000;

/** Cloud transmittance in (0.12, 1]: slow weather (hours) times passing clouds (minutes). */
export function cloudFactor(seed: number, t: number): number {
  const weather = valueNoise(seed ^ 0x51ed, t / (3 * HOUR)); // 0 clear … 1 overcast
  const passing = valueNoise(seed ^ 0x7f4a, t / (4 * MIN));
  const cover = Math.min(1, Math.max(0, weather * 1.2 - 0.1));
  return 1 - 0.88 * cover * (0.35 + 0.65 * passing);
}

/** Multiplicative scene noise, ~1 % rms, new value every 100 ms. */
function noise(seed: number, t: number, rms = 0.01): number {
  return Math.max(0, 1 + rms * hashNormal(seed ^ 0x2c1b, Math.floor(t / 100)));
}

/** Local solar hour of day 0..24 (longitude/15 h from UTC). */
function localHour(t: number, longitude: number): number {
  const h = ((t / HOUR + longitude / 15) % 24 + 24) % 24;
  return h;
}

function outdoor(o: Required<LightOptions>): LightFn {
  return (t) => clearSkyLux(solarElevation(t, o.latitude, o.longitude)) * cloudFactor(o.seed, t) * noise(o.seed, t);
}

/** Lamps switch in 10-minute slots: on with a probability that depends on the hour (evening high, night zero). */
function lamps(seed: number, t: number, longitude: number, onProbability: (hour: number, t: number) => number): number {
  const slot = Math.floor(t / (10 * MIN));
  const p = onProbability(localHour(slot * 10 * MIN, longitude), slot * 10 * MIN);
  if (hash01(seed ^ 0x1a2b, slot) >= p) return 0;
  return 300 + 200 * hash01(seed ^ 0x3c4d, Math.floor(t / (24 * HOUR))); // a given day's lamp level, 300–500 lx
}

function indoor(o: Required<LightOptions>): LightFn {
  const sky = outdoor(o);
  const home = (h: number) => (h >= 17 && h < 23 ? 0.9 : h >= 6.5 && h < 8.5 ? 0.6 : h >= 8.5 && h < 17 ? 0.15 : 0);
  return (t) => (0.015 * sky(t) + lamps(o.seed, t, o.longitude, home)) * noise(o.seed + 1, t);
}

function office(o: Required<LightOptions>): LightFn {
  const sky = outdoor(o);
  const work = (h: number, t: number) => {
    const weekday = new Date(t + o.longitude / 15 * HOUR).getUTCDay();
    return weekday >= 1 && weekday <= 5 && h >= 8 && h < 18 ? 0.98 : 0.02;
  };
  return (t) => {
    const on = lamps(o.seed, t, o.longitude, work) > 0 ? 500 : 0;
    return (0.03 * sky(t) + on) * noise(o.seed + 2, t);
  };
}

export function createLight(profile: string | number, opts: LightOptions = {}): LightFn {
  const o: Required<LightOptions> = { latitude: opts.latitude ?? 48.1, longitude: opts.longitude ?? 0, seed: opts.seed ?? 1 };
  if (typeof profile === 'number' || /^\d+(\.\d+)?$/.test(profile.trim())) {
    const lux = Number(profile);
    return () => lux;
  }
  switch (profile as LightProfile) {
    case 'outdoor': return outdoor(o);
    case 'sunlight': return (t) => 100_000 * (1 + 0.02 * (valueNoise(o.seed, t / 5000) - 0.5)) * noise(o.seed, t, 0.005);
    case 'indoor': return indoor(o);
    case 'office': return office(o);
    case 'dark': return (t) => (0.05 + 0.25 * valueNoise(o.seed, t / (20 * MIN))) * noise(o.seed, t, 0.03);
    default:
      throw new Error(`unknown light profile '${profile}': use ${LIGHT_PROFILES.join(', ')} or a number of lux`);
  }
}
