import { encodePubPayload, type PubRequest } from '@fieldlink/protocol';
import type { BrowserContext } from '../context.js';
import type { BrowserSession } from '../session.js';
import { RetainedLimitError } from '../../../auth/retained-budget.js';

/**
 * `pub`: publish on the bus for every door. `$` topics belong to the broker [MQTT-4.7.2-1].
 * The rate comes first: refused publishes cost a token too, so refusals (and their
 * replies and log lines) cannot be flooded past --publish-rate.
 */
export async function pub(ctx: BrowserContext, s: BrowserSession, req: PubRequest): Promise<void> {
  if (s.bucket && !s.bucket.take()) {
    ctx.security.rateLimited++;
    return s.fail(req.id, 'RATE_LIMITED', 'publishing faster than --publish-rate allows');
  }
  if (req.topic.startsWith('$')) return s.fail(req.id, 'INVALID_TOPIC', 'topics starting with "$" are reserved for the hub');
  if (!ctx.security.allow(s.identity!, 'publish', req.topic, 'ws')) return s.fail(req.id, 'FORBIDDEN', `not allowed to publish to "${req.topic}"`);
  const bytes = encodePubPayload(req);
  const payload = typeof bytes === 'string' ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bad = ctx.security.shapes.check('ws', req.topic, payload, s.identity);
  if (bad) return s.fail(req.id, 'PAYLOAD_LIMIT', bad.message);
  try {
    await ctx.bus.publish(req.topic, payload, { retain: req.retain ?? false, qos: req.qos ?? 0 });
  } catch (err) {
    if (err instanceof RetainedLimitError) return s.fail(req.id, 'RETAINED_LIMIT', err.message);
    throw err;
  }
  s.reply(req.id, { topic: req.topic });
}
