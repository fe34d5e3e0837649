/**
 * `/api/v1/session`: the dashboard's login. POST `{user, password}` (JSON only:
 * a cross-site form cannot send it without a CORS preflight, and the cookie is
 * SameSite=Strict) sets an HttpOnly session cookie; GET says who you are;
 * DELETE logs out. Credentials never travel in a URL.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Security } from '../auth/index.js';
import type { Logger } from '../log.js';
import { sendError, sendJson } from './json.js';

const MAX_BODY = 4096;

async function readJson(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) throw new Error('too large');
    chunks.push(c);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

export async function handleSession(req: IncomingMessage, res: ServerResponse, sec: Security, secure: boolean, _log: Logger): Promise<void> {
  if (req.method === 'GET') {
    const who = sec.sessions.fromRequest(req) ?? sec.anonymousFor(req);
    if (!who) return sendError(res, 'UNAUTHENTICATED');
    return sendJson(res, 200, { identity: { kind: who.kind, id: who.id, role: who.role } });
  }
  if (req.method === 'DELETE') {
    // Logging out also closes the WebSockets this very session opened (they hold its identity object).
    const who = sec.sessions.fromRequest(req);
    sec.sessions.destroy(req);
    if (who) sec.live.closeWhere(`user:${who.id}`, (e) => e.identity === who, 'logged_out');
    res.setHeader('set-cookie', sec.sessions.clearCookie(secure));
    return sendJson(res, 200, { ok: true });
  }
  if (req.method !== 'POST') {
    res.setHeader('allow', 'GET, POST, DELETE');
    return sendError(res, 'WRONG_TYPE', `method ${req.method ?? '?'} not allowed`);
  }
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return sendError(res, 'WRONG_TYPE', 'send {"user","password"} as application/json');
  if (!sec.originAllowed(req)) return sendError(res, 'ORIGIN_REJECTED');
  let body: { user?: unknown; password?: unknown };
  try {
    body = (await readJson(req)) as typeof body;
  } catch {
    return sendError(res, 'BAD_JSON', 'body must be a JSON object of at most 4 KiB');
  }
  if (typeof body?.user !== 'string' || typeof body.password !== 'string') return sendError(res, 'MISSING_FIELD', '"user" and "password" are required strings');
  const peer = sec.peer(req);
  const mark = sec.live.mark();
  const r = await sec.authenticator.authenticate({ user: body.user, password: body.password }, peer.address, peer.proxied);
  if (!r.ok) {
    sec.authFailures.record('http', peer.address, r.code);
    return sendError(res, r.code, r.message);
  }
  // Behind a TLS-terminating trusted proxy the hub speaks plain HTTP, yet the browser uses HTTPS: the cookie is Secure.
  res.setHeader('set-cookie', sec.sessions.cookie(sec.sessions.create(r.identity), secure || peer.https));
  sec.live.settle(r.identity, mark); // a password change that raced this login ends the new session too
  sendJson(res, 200, { identity: { kind: r.identity.kind, id: r.identity.id, role: r.identity.role } });
}
