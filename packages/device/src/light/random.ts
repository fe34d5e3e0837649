/**
 * Deterministic randomness as pure functions of (seed, key): the light at time t
 * must not depend on which device asked first or how often, so nothing here keeps
 * state. `hash01` is a 32-bit integer mix (the finaliser of MurmurHash3 applied to
 * a combination of both inputs); `valueNoise` interpolates hashed lattice values
 * with smoothstep, giving correlated, band-limited variation (clouds, flicker).
 */

/** A uniform number in [0, 1) from two integers. Same inputs, same output, everywhere. */
export function hash01(seed: number, key: number): number {
  let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul((key | 0) ^ (Math.floor(key / 0x1_0000_0000) | 0), 0x85ebca77)) >>> 0;
  // MurmurHash3 fmix32
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 0x1_0000_0000;
}

/** Standard normal from two hashed uniforms (Box–Muller). */
export function hashNormal(seed: number, key: number): number {
  const u = Math.max(hash01(seed, key * 2), 1e-12);
  const v = hash01(seed ^ 0x5bd1e995, key * 2 + 1);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Smooth noise in [0, 1) at position x (lattice spacing 1), continuous in x. */
export function valueNoise(seed: number, x: number): number {
  const i = Math.floor(x);
  const f = x - i;
  const s = f * f * (3 - 2 * f);
  return hash01(seed, i) * (1 - s) + hash01(seed, i + 1) * s;
}

/** A seeded sequential generator (mulberry32) for choices that are made once, e.g. per-device parameters. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}
