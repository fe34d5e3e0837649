/**
 * startFleet: N simulated devices in one process (1 to 10,000), each a real
 * MQTT or JSON-door client reading its own emulated VEML7700 through the real
 * driver. Resolves when every device has its first session; if any device cannot
 * connect, the ones already up are stopped and the promise rejects with that
 * device's error (a wrong URL fails fast instead of retrying 10,000 times).
 */
import { isDeviceId } from '@fieldlink/protocol';
import { createLight, type LightFn } from '../light/profiles.js';
import { mulberry32 } from '../light/random.js';
import { SimDevice, type Counters } from './device.js';
import { RateMeter, type FleetStats } from './stats.js';

export interface FleetOptions {
  url: string;
  count: number;
  /** Telemetry period per device, ms; default 1000. */
  intervalMs?: number;
  /** Device ids are `${idPrefix}${n}`, n = 1..count; default 'sim-'. */
  idPrefix?: string;
  /** Light profile name or a number of lux (see light/profiles.ts), or a light function shared by every device (tests, scripted scenes); default 'outdoor'. */
  light?: string | LightFn;
  latitude?: number;
  /** Degrees east; sets the scene's local solar time (0: UTC). */
  longitude?: number;
  /** Seeds light and start jitter; device n uses seed + n. Default 1. */
  seed?: number;
  /** Connections opened at once; default 100. */
  connectConcurrency?: number;
  keepaliveSec?: number;
  /** Device id → secret, for a hub that requires authentication; a device without one connects without credentials. */
  secrets?: ReadonlyMap<string, string>;
  /** Readings acknowledged once stored (SimDeviceOptions.ack). */
  ack?: boolean;
  onLog?: (line: string) => void;
}

export interface Fleet {
  readonly ids: string[];
  stats(): FleetStats;
  stopDevice(id: string, opts?: { graceful?: boolean }): Promise<void>;
  stop(opts?: { graceful?: boolean }): Promise<void>;
}

export const MAX_FLEET = 10_000;

export async function startFleet(opts: FleetOptions): Promise<Fleet> {
  const count = opts.count;
  if (!Number.isInteger(count) || count < 1 || count > MAX_FLEET) throw new Error(`count must be an integer from 1 to ${MAX_FLEET}, got ${String(count)}`);
  const intervalMs = opts.intervalMs ?? 1000;
  if (!Number.isFinite(intervalMs) || intervalMs < 10) throw new Error(`intervalMs must be at least 10, got ${String(intervalMs)}`);
  const prefix = opts.idPrefix ?? 'sim-';
  const ids = Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`);
  const bad = ids.find((id) => !isDeviceId(id));
  if (bad !== undefined) throw new Error(`idPrefix '${prefix}' gives an invalid device id '${bad}' (letters, digits, . _ : - ; at most 64 characters)`);
  const seed = opts.seed ?? 1;
  const profile = opts.light ?? 'outdoor';
  if (typeof profile !== 'function') createLight(profile); // validate the profile name once, before opening any socket
  const rng = mulberry32(seed);
  const counters: Counters = { sent: 0, errors: 0, connected: 0 };
  const devices = new Map<string, SimDevice>();
  for (const [i, id] of ids.entries()) {
    devices.set(id, new SimDevice({
      id, url: opts.url, intervalMs, counters, keepaliveSec: opts.keepaliveSec, onLog: opts.onLog, ack: opts.ack,
      ...(opts.secrets?.has(id) ? { secret: opts.secrets.get(id)! } : {}),
      light: typeof profile === 'function' ? profile : createLight(profile, { latitude: opts.latitude, longitude: opts.longitude, seed: seed + i + 1 }),
      jitterMs: Math.floor(rng() * intervalMs),
    }));
  }
  const meter = new RateMeter(counters);
  const stopAll = async (graceful: boolean) => {
    meter.stop();
    await Promise.allSettled([...devices.values()].map((d) => d.stop(graceful)));
  };

  try {
    await runLimited([...devices.values()], opts.connectConcurrency ?? 100, (d) => d.start());
  } catch (err) {
    await stopAll(false);
    throw err;
  }
  opts.onLog?.(`fleet: ${count} devices connected to ${opts.url}`);

  return {
    ids,
    stats: () => ({ devices: devices.size, connected: counters.connected, sent: counters.sent, errors: counters.errors, msgsPerSec: meter.rate() }),
    async stopDevice(id, o = {}) {
      const d = devices.get(id);
      if (!d) throw new Error(`no device '${id}' in this fleet`);
      devices.delete(id);
      await d.stop(o.graceful ?? true);
    },
    stop: (o = {}) => stopAll(o.graceful ?? true),
  };
}

/** Runs `fn` over items with at most `limit` in flight; rejects on the first failure (no new starts after it). */
async function runLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
