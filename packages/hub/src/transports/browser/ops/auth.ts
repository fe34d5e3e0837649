import type { AuthRequest } from '@fieldlink/protocol';
import type { BrowserContext } from '../context.js';
import type { BrowserSession } from '../session.js';

/**
 * `auth`: with a `token` or `user`+`password`, become that identity; without
 * credentials, learn who the connection already is (session cookie or anonymous).
 * A failure leaves the connection as it was, so a client may try again (slowed
 * down per IP after repeated failures).
 */
export async function auth(ctx: BrowserContext, s: BrowserSession, req: AuthRequest): Promise<void> {
  const creds = req.token !== undefined ? { token: req.token } : req.user !== undefined && req.password !== undefined ? { user: req.user, password: req.password } : undefined;
  if (creds) {
    const mark = ctx.security.live.mark();
    const r = await ctx.security.authenticator.authenticate(creds, s.remote);
    if (!r.ok) {
      ctx.security.authFailures.record('ws', s.remote, r.code);
      return s.fail(req.id, r.code, r.message);
    }
    s.become(r.identity, ctx.security.live, mark);
  } else if (req.user !== undefined || req.password !== undefined) {
    return s.fail(req.id, 'MISSING_FIELD', '"user" and "password" go together');
  }
  if (!s.identity) return s.fail(req.id, 'UNAUTHENTICATED', 'credentials required');
  const { kind, id, role } = s.identity;
  s.reply(req.id, { ...ctx.hubInfo(), identity: { kind, id, role } });
}
