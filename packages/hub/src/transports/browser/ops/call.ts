import { isDeviceId, type CallRequest } from '@fieldlink/protocol';
import type { BrowserContext } from '../context.js';
import type { BrowserSession } from '../session.js';

/** `call`: a device command with a timeout; the reply is the device's answer or an error code. */
export async function call(ctx: BrowserContext, s: BrowserSession, req: CallRequest): Promise<void> {
  if (!isDeviceId(req.device)) return s.fail(req.id, 'INVALID_ID');
  const topic = `devices/${req.device}/cmd/${req.method}`;
  if (!ctx.security.allow(s.identity!, 'call', topic, 'ws')) return s.fail(req.id, 'FORBIDDEN', `not allowed to call "${req.method}" on "${req.device}"`);
  const out = await ctx.commands.call(req.device, req.method, req.params ?? {}, req.timeout ?? ctx.defaultCallTimeoutMs, req.queue?.ttl);
  if (out.ok) s.reply(req.id, out.result);
  else s.fail(req.id, out.code, out.message);
}
