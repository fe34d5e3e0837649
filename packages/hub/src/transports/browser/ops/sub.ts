import type { SubRequest, UnsubRequest } from '@fieldlink/protocol';
import type { BrowserContext } from '../context.js';
import type { BrowserSession } from '../session.js';

/**
 * `sub`: join the shared fan-out for the filter, then send this session the
 * retained values (or, with `epoch`+`since`, what it missed) before any live push.
 * Subscribing again to a filter already held is idempotent.
 */
export async function sub(ctx: BrowserContext, s: BrowserSession, req: SubRequest): Promise<void> {
  const { filter } = req;
  const who = s.identity!;
  if (!ctx.security.allow(who, 'subscribe', filter, 'ws')) return s.fail(req.id, 'FORBIDDEN', `not allowed to subscribe to "${filter}"`);
  // A filter overlapping a deny rule is accepted, and then every message to this session is checked (docs/security.md "Deny rules").
  if (ctx.security.acl.subscribeScope(who, filter) === 'screened') {
    s.screen ??= (topic) => ctx.security.acl.can(who, 'subscribe', topic) || ((ctx.security.denied['ws:deliver'] = (ctx.security.denied['ws:deliver'] ?? 0) + 1), false);
  }
  const shown = (topic: string) => !s.screen || s.screen(topic);
  if (!s.filters.has(filter) && s.filters.size >= s.maxSubscriptions) {
    return s.fail(req.id, 'TOO_MANY_SUBSCRIPTIONS', `at most ${s.maxSubscriptions} subscriptions per connection`);
  }
  const already = s.filters.has(filter);
  s.filters.add(filter);
  s.hold();
  let retained = 0;
  let resumed: boolean | undefined;
  try {
    await ctx.fanout.add(s, filter);
    if (req.epoch !== undefined && req.since !== undefined) {
      const missed = ctx.fanout.replay(filter, req.epoch, req.since);
      resumed = missed !== undefined;
      for (const it of missed ?? []) if (shown(it.topic)) s.pushDirect(it.frame);
    }
    if (!resumed && !already && req.retained !== false) {
      for (const m of await ctx.bus.retained(filter)) {
        if (!shown(m.topic)) continue;
        s.pushDirect(ctx.fanout.frameFor(m));
        retained++;
      }
    }
  } finally {
    s.release();
  }
  s.reply(req.id, { filter, retained, ...(resumed !== undefined ? { resumed } : {}), epoch: ctx.fanout.epoch });
}

export function unsub(ctx: BrowserContext, s: BrowserSession, req: UnsubRequest): void {
  if (!s.filters.delete(req.filter)) return s.fail(req.id, 'NOT_SUBSCRIBED', `not subscribed to "${req.filter}"`);
  ctx.fanout.remove(s, req.filter);
  s.reply(req.id, { filter: req.filter });
}
