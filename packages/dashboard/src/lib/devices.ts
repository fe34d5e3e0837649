/**
 * Live device state for every view: the `devices` op gives the initial picture,
 * then `devices/+/status`, `devices/+/meta` and `devices/+/telemetry` keep it
 * current. Subscriptions are made before the snapshot is asked for, so nothing
 * that happens in between is lost; after a reconnect the snapshot is asked again.
 *
 * Each change replaces that device's object (views can compare by identity);
 * `devices` notifies at most once per frame however many messages arrive.
 * Telemetry is also fanned out locally per device (`onTelemetry`), so charts
 * need no subscription of their own.
 */
import { parseDeviceTopic, type DeviceMeta, type DeviceStatus, type MsgPush } from '@fieldlink/protocol';
import { client, onReconnect } from './connection.js';
import { notify } from './notices.js';
import { Store } from './store.js';

export interface Device {
  id: string;
  online: boolean;
  firstSeen: number;
  lastSeen: number;
  last: Record<string, { value: unknown; ts: number }>;
  meta: DeviceMeta | null;
}

export type Reading = { ts: number; values: Record<string, number> };

export const devices = new Store<Map<string, Device>>(new Map());
let resolveReady!: () => void;
/** Resolves once the three subscriptions are active (charts load history after this). */
export const ready: Promise<void> = new Promise((r) => (resolveReady = r));
/** True once the first snapshot arrived (the list shows "loading" before). */
export const loaded = new Store(false);

const telemetryListeners = new Map<string, Set<(r: Reading) => void>>();

export function onTelemetry(id: string, fn: (r: Reading) => void): () => void {
  let set = telemetryListeners.get(id);
  if (!set) telemetryListeners.set(id, (set = new Set()));
  set.add(fn);
  return () => set.delete(fn);
}

function upsert(id: string, msgTs: number, fn: (d: Device) => Partial<Device>): void {
  const map = devices.get();
  const cur = map.get(id) ?? { id, online: false, firstSeen: msgTs, lastSeen: 0, last: {}, meta: null };
  map.set(id, { ...cur, ...fn(cur) });
  devices.changed();
}

function onMessage(m: MsgPush): void {
  const t = parseDeviceTopic(m.topic);
  if (!t) return;
  const seen = (d: Device) => (m.retained ? d.lastSeen : Math.max(d.lastSeen, m.ts));
  const body = m.payload as Record<string, unknown> | null;
  if (t.kind === 'status') upsert(t.device, m.ts, (d) => ({ online: (body as DeviceStatus | null)?.online === true, lastSeen: seen(d) }));
  else if (t.kind === 'meta') upsert(t.device, m.ts, () => ({ meta: typeof body === 'object' ? (body as DeviceMeta | null) : null }));
  else if (t.kind === 'telemetry' && body && typeof body === 'object') {
    const ts = typeof body.ts === 'number' && Number.isFinite(body.ts) ? body.ts : m.ts;
    const values: Record<string, number> = {};
    upsert(t.device, m.ts, (d) => {
      const last = { ...d.last };
      for (const [k, v] of Object.entries(body)) {
        if (k === 'ts') continue;
        last[k] = { value: v, ts };
        if (typeof v === 'number' && Number.isFinite(v)) values[k] = v;
      }
      return { last, lastSeen: seen(d) };
    });
    if (!m.retained) for (const fn of telemetryListeners.get(t.device) ?? []) fn({ ts, values });
  }
}

async function loadSnapshot(): Promise<void> {
  const { devices: list } = await client.devices<{ devices: Device[] }>();
  const map = devices.get();
  for (const d of list) {
    const cur = map.get(d.id);
    const last = { ...d.last };
    for (const [k, v] of Object.entries(cur?.last ?? {})) if (!last[k] || last[k].ts < v.ts) last[k] = v;
    map.set(d.id, { ...d, last, lastSeen: Math.max(d.lastSeen, cur?.lastSeen ?? 0), meta: d.meta ?? cur?.meta ?? null });
  }
  devices.changed();
  loaded.set(true);
}

const FILTERS = ['devices/+/status', 'devices/+/meta', 'devices/+/telemetry'];
let subscribed = false;
let subscribing = false;

/**
 * Subscribes on the first open connection (whenever the login lets it happen),
 * then asks for the snapshot; errors are shown, and retried on the next open.
 * The client re-sends the subscriptions itself after a reconnect, and the
 * snapshot is asked again then.
 */
export function startDevices(): void {
  // Subscribe once connected: a `sub` waiting for a hub that is down would time out and be forgotten.
  client.onState((e) => {
    if (e.state !== 'open' || subscribed || subscribing) return;
    subscribing = true;
    Promise.all(FILTERS.map((f) => client.subscribe(f, onMessage))) // the same handler twice is one handler: a retry is safe
      .then(() => {
        subscribed = true;
        resolveReady();
        return loadSnapshot();
      })
      .catch((err: unknown) => notify('Loading devices failed', err))
      .finally(() => (subscribing = false));
  });
  onReconnect(() => {
    if (subscribed) void loadSnapshot().catch((e: unknown) => notify('Reloading devices failed', e));
  });
}
