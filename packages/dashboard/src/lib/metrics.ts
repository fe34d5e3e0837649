/** Which metrics a device has, in display order: its meta's order (lux first), then any other numeric reading. */
import type { Device } from './devices.js';

export function metricsOf(d: Device | undefined): string[] {
  if (!d) return [];
  const out = Object.keys(d.meta?.metrics ?? {});
  for (const [k, v] of Object.entries(d.last)) if (!out.includes(k) && typeof v.value === 'number') out.push(k);
  const i = out.indexOf('lux');
  if (i > 0) out.unshift(...out.splice(i, 1));
  return out;
}

export function unitOf(d: Device | undefined, metric: string): string | undefined {
  return d?.meta?.metrics?.[metric]?.unit;
}
