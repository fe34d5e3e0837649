/**
 * Device registry: presence, last seen, last telemetry and meta of every device,
 * whichever door it uses, learned from the bus alone (design.md: services know
 * nothing about doors). Snapshots go to the store, debounced, when one is given.
 *
 * Bounded (docs/security.md, "Bounds"), because every reader of the device list
 * pays for what one device put here: payloads past the shape bounds (bus/shape.ts)
 * are ignored; at most `maxDevices` devices and `maxMetricsPerDevice` readings
 * per device are kept (new names past the cap are ignored); a reading keeps a
 * number, boolean, null or a string cut to VALUE_CHARS; object and array
 * readings are not kept. Each refusal is counted by reason (`refused()`).
 */
import { parseDeviceTopic } from '@fieldlink/protocol';
import type { Bus, BusMessage, Subscription } from '../bus/types.js';
import { NOT_JSON, jsonOf } from '../bus/json.js';
import { busShapeProblem, type ShapeLimits } from '../bus/shape.js';
import type { DeviceRecord, Store } from '../storage/types.js';

export interface Registry {
  list(): DeviceRecord[];
  get(id: string): DeviceRecord | undefined;
  /** What was not kept, by reason (too_deep, too_many_keys, meta_too_large, devices_over_cap, metrics_over_cap, value_truncated, value_dropped). */
  refused(): Record<string, number>;
  stop(): Promise<void>;
}

export interface RegistryLimits extends ShapeLimits {
  maxDevices: number;
  maxMetricsPerDevice: number;
}

export const DEFAULT_REGISTRY_LIMITS: RegistryLimits = { maxDepth: 32, maxKeys: 1000, maxMetaBytes: 16384, maxDevices: 20000, maxMetricsPerDevice: 128 };

const SAVE_DEBOUNCE_MS = 1000;
/** Longest string reading kept; longer ones are cut (counted `value_truncated`). */
export const VALUE_CHARS = 256;

/** A stored meta within the bounds, else null (a value too deep to serialise, from before them, included). */
function boundedMeta(meta: unknown, maxBytes: number): unknown {
  if (meta === null || meta === undefined) return null;
  try {
    return JSON.stringify(meta).length > maxBytes ? null : meta;
  } catch {
    return null;
  }
}

export async function startRegistry(bus: Bus, store?: Store, onError?: (e: unknown) => void, limits: RegistryLimits = DEFAULT_REGISTRY_LIMITS): Promise<Registry> {
  const devices = new Map<string, DeviceRecord>();
  const refused: Record<string, number> = {};
  const refuse = (reason: string) => void (refused[reason] = (refused[reason] ?? 0) + 1);
  if (store) {
    for (const d of await store.devices()) {
      if (devices.size >= limits.maxDevices) break;
      // Records stored before these bounds existed are cut to them on load.
      const last: DeviceRecord['last'] = {};
      for (const [k, v] of Object.entries(d.last ?? {}).slice(0, limits.maxMetricsPerDevice)) if (k !== '__proto__') last[k] = v;
      devices.set(d.id, { ...d, last, meta: boundedMeta(d.meta, limits.maxMetaBytes), online: false });
    }
  }
  const dirty = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | undefined;

  const save = async () => {
    timer = undefined;
    if (!store) return;
    const ids = [...dirty];
    dirty.clear();
    for (const id of ids) {
      const rec = devices.get(id);
      if (rec) await store.upsertDevice(rec).catch((e: unknown) => onError?.(e));
    }
  };
  const touch = (id: string, ts: number): DeviceRecord | undefined => {
    let rec = devices.get(id);
    if (!rec) {
      if (devices.size >= limits.maxDevices) return void refuse('devices_over_cap');
      devices.set(id, (rec = { id, firstSeen: ts, lastSeen: ts, online: false, last: {}, meta: null }));
    }
    if (store) {
      dirty.add(id);
      timer ??= setTimeout(() => void save(), SAVE_DEBOUNCE_MS);
    }
    return rec;
  };

  const onMessage = (m: BusMessage) => {
    const t = parseDeviceTopic(m.topic);
    if (!t) return;
    if (m.payload.length === 0) {
      // A cleared retained status/meta: the device was removed or reset.
      const rec = devices.get(t.device);
      if (rec && t.kind === 'meta') rec.meta = null;
      if (rec && t.kind === 'status') rec.online = false;
      return;
    }
    const problem = busShapeProblem(m, limits);
    if (problem) return refuse(problem.reason);
    const parsed = jsonOf(m);
    const body = parsed === NOT_JSON ? undefined : parsed;
    if (typeof body !== 'object' || body === null) return;
    const rec = touch(t.device, m.ts);
    if (!rec) return;
    if (!m.retained) rec.lastSeen = Math.max(rec.lastSeen, m.ts);
    if (t.kind === 'status') rec.online = (body as { online?: unknown }).online === true;
    else if (t.kind === 'meta') rec.meta = body;
    else if (t.kind === 'telemetry') keepReadings(rec, body as Record<string, unknown>, m.ts);
  };

  const keepReadings = (rec: DeviceRecord, o: Record<string, unknown>, busTs: number) => {
    const ts = typeof o.ts === 'number' ? o.ts : busTs;
    let names = -1; // counted only when a new name arrives (a device's readings keep their names)
    for (const k in o) {
      if (k === 'ts' || k === '__proto__' || !Object.hasOwn(o, k)) continue; // own key from JSON.parse; assigning it would set the prototype
      const v = o[k];
      let value = v;
      if (typeof v === 'string' && v.length > VALUE_CHARS) {
        value = v.slice(0, VALUE_CHARS);
        refuse('value_truncated');
      } else if (typeof v === 'object' && v !== null) {
        refuse('value_dropped');
        continue;
      }
      if (!Object.hasOwn(rec.last, k)) {
        if (names < 0) names = Object.keys(rec.last).length;
        if (names >= limits.maxMetricsPerDevice) {
          refuse('metrics_over_cap');
          continue;
        }
        names++;
      }
      rec.last[k] = { value, ts };
    }
  };

  const subs: Subscription[] = [];
  for (const f of ['devices/+/status', 'devices/+/meta', 'devices/+/telemetry']) subs.push(await bus.subscribe(f, onMessage));

  return {
    list: () => [...devices.values()].sort((a, b) => a.id.localeCompare(b.id)),
    get: (id) => devices.get(id),
    refused: () => ({ ...refused }),
    async stop() {
      for (const s of subs) await s.unsubscribe();
      clearTimeout(timer);
      await save();
    },
  };
}
