import { isDeviceId, type DevicesRequest, type HistoryRequest } from '@fieldlink/protocol';
import type { DeviceRecord } from '../../../storage/types.js';
import type { BrowserContext } from '../context.js';
import type { BrowserSession } from '../session.js';

/** The public shape of a registry record (same as GET /api/v1/devices). */
export function publicDevice(d: DeviceRecord) {
  return { id: d.id, online: d.online, firstSeen: d.firstSeen, lastSeen: d.lastSeen, last: d.last, meta: d.meta };
}

/** Devices are visible to whoever may read their telemetry. */
export const readTopic = (device: string) => `devices/${device}/telemetry`;

export function devices(ctx: BrowserContext, s: BrowserSession, req: DevicesRequest): void {
  const who = s.identity!;
  if (req.device === undefined) return s.reply(req.id, { devices: ctx.registry.list().filter((d) => ctx.security.acl.can(who, 'read', readTopic(d.id))).map(publicDevice) });
  if (!isDeviceId(req.device)) return s.fail(req.id, 'INVALID_ID');
  if (!ctx.security.allow(who, 'read', readTopic(req.device), 'ws')) return s.fail(req.id, 'FORBIDDEN', `not allowed to read "${req.device}"`);
  const d = ctx.registry.get(req.device);
  if (!d) return s.fail(req.id, 'UNKNOWN_DEVICE', `unknown device "${req.device}"`);
  s.reply(req.id, { device: publicDevice(d) });
}

export async function history(ctx: BrowserContext, s: BrowserSession, req: HistoryRequest): Promise<void> {
  if (!ctx.history) return s.fail(req.id, 'STORE_UNAVAILABLE', 'this hub runs without a store (--store none)');
  if (!ctx.security.allow(s.identity!, 'read', readTopic(req.device), 'ws')) return s.fail(req.id, 'FORBIDDEN', `not allowed to read "${req.device}"`);
  const { op: _op, id: _id, ...params } = req;
  const out = await ctx.history(params);
  if (out.ok) s.reply(req.id, out.result);
  else s.fail(req.id, out.code, out.message);
}
