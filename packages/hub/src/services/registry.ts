/**
 * Device registry: presence, last seen, last telemetry and meta of every device,
 * whichever door it uses, learned from the bus alone (design.md: services know
 * nothing about doors). Snapshots go to the store, debounced, when one is given.
 */
import { parseDeviceTopic } from '@fieldlink/protocol';
import type { Bus, BusMessage, Subscription } from '../bus/types.js';
import { NOT_JSON, jsonOf } from '../bus/json.js';
import type { DeviceRecord, Store } from '../storage/types.js';

export interface Registry {
  list(): DeviceRecord[];
  get(id: string): DeviceRecord | undefined;
  stop(): Promise<void>;
}

const SAVE_DEBOUNCE_MS = 1000;

export async function startRegistry(bus: Bus, store?: Store, onError?: (e: unknown) => void): Promise<Registry> {
  const devices = new Map<string, DeviceRecord>();
  if (store) for (const d of await store.devices()) devices.set(d.id, { ...d, online: false });
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
  const touch = (id: string, ts: number): DeviceRecord => {
    let rec = devices.get(id);
    if (!rec) devices.set(id, (rec = { id, firstSeen: ts, lastSeen: ts, online: false, last: {}, meta: null }));
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
    const parsed = jsonOf(m);
    const body = parsed === NOT_JSON ? undefined : parsed;
    if (typeof body !== 'object' || body === null) return;
    const rec = touch(t.device, m.ts);
    if (!m.retained) rec.lastSeen = Math.max(rec.lastSeen, m.ts);
    if (t.kind === 'status') rec.online = (body as { online?: unknown }).online === true;
    else if (t.kind === 'meta') rec.meta = body;
    else if (t.kind === 'telemetry') {
      const o = body as Record<string, unknown>;
      const ts = typeof o.ts === 'number' ? o.ts : m.ts;
      for (const [k, v] of Object.entries(o)) if (k !== 'ts') rec.last[k] = { value: v, ts };
    }
  };

  const subs: Subscription[] = [];
  for (const f of ['devices/+/status', 'devices/+/meta', 'devices/+/telemetry']) subs.push(await bus.subscribe(f, onMessage));

  return {
    list: () => [...devices.values()].sort((a, b) => a.id.localeCompare(b.id)),
    get: (id) => devices.get(id),
    async stop() {
      for (const s of subs) await s.unsubscribe();
      clearTimeout(timer);
      await save();
    },
  };
}
