import type { SubRequest, UnsubRequest } from '@fieldlink/protocol';
import type { BrowserContext } from '../context.js';
import type { BrowserSession } from '../session.js';
import { MAX_REBUILT, rebuild, rebuildable, rebuiltFrame, telemetryKey } from '../rebuild.js';

/**
 * `sub`: join the shared fan-out for the filter, then send this session the
 * retained values (or, with `epoch`+`since`, what it missed) before any live push,
 * with flow control so a large replay stalls neither this client nor others.
 * A resume point from an earlier hub run is answered from the store for
 * telemetry filters (rebuild.ts). Subscribing again to a filter already held is idempotent.
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
  let rebuilt: number | undefined;
  let skip: ((msg: Parameters<typeof telemetryKey>[0]) => boolean) | undefined;
  try {
    const older = req.epoch !== undefined && req.since !== undefined && req.epoch !== ctx.fanout.epoch;
    // Seqs for rebuilt frames are taken before joining, so every live frame held meanwhile has a higher one.
    const base = older && ctx.resume && rebuildable(filter) ? ctx.fanout.reserve(MAX_REBUILT) : undefined;
    await ctx.fanout.add(s, filter);
    if (base !== undefined) {
      const missed = await rebuild(ctx.resume!, ctx.registry, filter, req.epoch!, req.since!, shown).catch((err: unknown) => {
        ctx.log.warn({ err }, 'resume rebuild failed; answering resumed:false');
        return undefined;
      });
      resumed = missed !== undefined;
      if (missed) {
        const got = new Set(missed.map((m) => `${m.ts} ${m.device}`));
        skip = (msg) => ((k) => k !== undefined && got.has(`${k.ts} ${k.device}`))(telemetryKey(msg));
        let i = 0;
        rebuilt = await s.replay(missed, (m) => rebuiltFrame(m, base + i++));
      }
    } else if (req.epoch !== undefined && req.since !== undefined) {
      const missed = ctx.fanout.replay(filter, req.epoch, req.since);
      resumed = missed !== undefined;
      if (missed) await s.replay(missed.filter((it) => shown(it.topic)), (it) => it.frame);
    }
    if (!resumed && !already && req.retained !== false) {
      // Flow-controlled (session.ts): frames are built one by one as the socket drains.
      retained = await s.replay(consume((await ctx.bus.retained(filter)).filter((m) => shown(m.topic))), (m) => ctx.fanout.frameFor(m));
    }
  } finally {
    s.release(skip);
  }
  s.reply(req.id, { filter, retained, ...(resumed !== undefined ? { resumed } : {}), ...(rebuilt !== undefined ? { rebuilt } : {}), epoch: ctx.fanout.epoch });
}

/**
 * Items handed out once each and released: a message sent is no longer referenced
 * here, so its parse and frame (cached on the message, bus/json.ts, fanout.ts)
 * can be collected while the rest of a large replay is still going out.
 */
function* consume<T>(items: T[]): Generator<T> {
  items.reverse();
  while (items.length > 0) yield items.pop()!;
}

export function unsub(ctx: BrowserContext, s: BrowserSession, req: UnsubRequest): void {
  if (!s.filters.delete(req.filter)) return s.fail(req.id, 'NOT_SUBSCRIBED', `not subscribed to "${req.filter}"`);
  ctx.fanout.remove(s, req.filter);
  s.reply(req.id, { filter: req.filter });
}
