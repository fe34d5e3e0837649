/**
 * Where the sun is and how much light it gives.
 *
 * Solar position: the NOAA "General Solar Position Calculations" approximation
 * (fractional-year series for declination and equation of time, from Spencer 1971),
 * accurate to a fraction of a degree, which is plenty for simulated daylight.
 * Illuminance on a horizontal surface under a clear sky: direct beam
 * 133 klx · sin h · τ^m (133 klx ≈ solar illuminance constant above the
 * atmosphere, τ = 0.8 a typical clear-day transmittance, m the air mass of
 * Kasten & Young 1989) plus a diffuse-sky term, and a twilight term that falls
 * from ~400 lx at sunset to ~3 lx at the end of civil twilight (−6°) and to
 * starlight (~0.001 lx) at −18°. Good to a factor of about 1.5, not a radiometer.
 */

const RAD = Math.PI / 180;

/** Solar elevation in degrees at time t (ms since epoch) and a place. */
export function solarElevation(t: number, latitude: number, longitude = 0): number {
  const d = new Date(t);
  const start = Date.UTC(d.getUTCFullYear(), 0, 1);
  const dayOfYear = Math.floor((t - start) / 86_400_000);
  const hours = d.getUTCHours() + d.getUTCMinutes() / 60 + d.getUTCSeconds() / 3600 + d.getUTCMilliseconds() / 3_600_000;
  const g = (2 * Math.PI / 365) * (dayOfYear + (hours - 12) / 24); // fractional year, radians
  const eqTime = 229.18 * (0.000075 + 0.001868 * Math.cos(g) - 0.032077 * Math.sin(g) - 0.014615 * Math.cos(2 * g) - 0.040849 * Math.sin(2 * g));
  const decl = 0.006918 - 0.399912 * Math.cos(g) + 0.070257 * Math.sin(g) - 0.006758 * Math.cos(2 * g)
    + 0.000907 * Math.sin(2 * g) - 0.002697 * Math.cos(3 * g) + 0.00148 * Math.sin(3 * g);
  const trueSolarMinutes = hours * 60 + eqTime + 4 * longitude;
  const hourAngle = (trueSolarMinutes / 4 - 180) * RAD;
  const lat = latitude * RAD;
  const cosZenith = Math.sin(lat) * Math.sin(decl) + Math.cos(lat) * Math.cos(decl) * Math.cos(hourAngle);
  return 90 - Math.acos(Math.min(1, Math.max(-1, cosZenith))) / RAD;
}

/** Relative optical air mass, Kasten & Young (1989); finite down to the horizon. */
export function airMass(elevationDeg: number): number {
  const h = Math.max(elevationDeg, 0);
  return 1 / (Math.sin(h * RAD) + 0.50572 * (h + 6.07995) ** -1.6364);
}

const TWILIGHT_AT_HORIZON = 400;

/** Clear-sky horizontal illuminance in lux for a solar elevation in degrees. */
export function clearSkyLux(elevationDeg: number): number {
  if (elevationDeg < -18) return 0.001;
  if (elevationDeg <= 0) return Math.max(0.001, TWILIGHT_AT_HORIZON * 10 ** (0.35 * elevationDeg));
  const s = Math.sin(elevationDeg * RAD);
  const direct = 133_000 * s * 0.8 ** airMass(elevationDeg);
  const diffuse = 15_000 * s ** 0.8;
  return TWILIGHT_AT_HORIZON + direct + diffuse; // continuous at the horizon

}

/**
 * The longitude (degrees east, -180..180) where the local solar time is `hour` at
 * time `t`. A simulation started with it shows that time of day whenever it runs:
 * tests use midday, so a lit scene keeps the sensor's integration short.
 */
export function longitudeAt(hour: number, t = Date.now()): number {
  const utcHour = (t / 3_600_000) % 24;
  return ((((hour - utcHour) * 15) % 360) + 540) % 360 - 180;
}
