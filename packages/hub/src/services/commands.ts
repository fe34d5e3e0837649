/**
 * Device commands as request/response over the bus, whichever door the device
 * uses: publish `devices/{id}/cmd/{method}` with a hub-unique request id, wait for
 * `devices/{id}/cmd/{method}/res` carrying the same id. One bus subscription serves
 * every call; ids never repeat within a hub run, so concurrent calls cannot cross.
 */
import { deviceTopic, parseDeviceTopic, type CodeName, type CommandResponse } from '@fieldlink/protocol';
import type { Bus, Subscription } from '../bus/types.js';
import type { Registry } from './registry.js';

export type CallOutcome = { ok: true; result: unknown } | { ok: false; code: CodeName; message: string };

export interface Commands {
  /** `queueTtlMs`: the caller accepts a queued delivery when the device is behind a link that is down (link/central.ts). */
  call(device: string, method: string, params: Record<string, unknown>, timeoutMs: number, queueTtlMs?: number): Promise<CallOutcome>;
  readonly pending: number;
  stop(): Promise<void>;
}

interface Waiter { device: string; method: string; resolve(o: CallOutcome): void; timer: ReturnType<typeof setTimeout> }

/** Answers a call before any registry check (the link: SITE_OFFLINE, or queued, for a site that is not connected); undefined lets it through. */
export type CallGate = (device: string, method: string, params: Record<string, unknown>, queueTtlMs: number | undefined) => Promise<CallOutcome | undefined> | CallOutcome | undefined;

export async function startCommands(bus: Bus, registry: Registry, gate?: CallGate): Promise<Commands> {
  const prefix = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}-`;
  let next = 0;
  const waiting = new Map<string, Waiter>();

  const sub: Subscription = await bus.subscribe(
    'devices/+/cmd/+/res',
    (m) => {
      const t = parseDeviceTopic(m.topic);
      if (!t || t.kind !== 'cmd_res') return;
      let res: Partial<CommandResponse>;
      try {
        res = JSON.parse(m.payload.toString('utf8')) as Partial<CommandResponse>;
      } catch {
        return;
      }
      if (typeof res?.id !== 'string') return;
      const w = waiting.get(res.id);
      // A response must come from the device and method that were called.
      if (!w || w.device !== t.device || w.method !== t.method) return;
      waiting.delete(res.id);
      clearTimeout(w.timer);
      if (res.ok === true) w.resolve({ ok: true, result: res.result ?? null });
      else w.resolve({ ok: false, code: 'DEVICE_ERROR', message: String(res.error?.message ?? 'device reported an error').slice(0, 500) });
    },
    { retained: false },
  );

  return {
    get pending() {
      return waiting.size;
    },
    async call(device, method, params, timeoutMs, queueTtlMs) {
      const gated = await gate?.(device, method, params, queueTtlMs);
      if (gated) return gated;
      const rec = registry.get(device);
      if (!rec) return { ok: false, code: 'UNKNOWN_DEVICE', message: `unknown device "${device}"` };
      if (!rec.online) return { ok: false, code: 'DEVICE_OFFLINE', message: `device "${device}" is offline` };
      const id = prefix + (++next).toString(36);
      const outcome = new Promise<CallOutcome>((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          resolve({ ok: false, code: 'CALL_TIMEOUT', message: `no answer from "${device}" within ${timeoutMs} ms` });
        }, timeoutMs);
        waiting.set(id, { device, method, resolve, timer });
      });
      await bus.publish(deviceTopic.cmd(device, method), JSON.stringify({ id, params }), { qos: 1 });
      return outcome;
    },
    async stop() {
      await sub.unsubscribe();
      for (const [id, w] of waiting) {
        clearTimeout(w.timer);
        w.resolve({ ok: false, code: 'SHUTTING_DOWN', message: 'hub is shutting down' });
        waiting.delete(id);
      }
    },
  };
}
