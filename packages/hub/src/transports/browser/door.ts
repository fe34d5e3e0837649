/**
 * The browser door (`/ws`): JSON text frames of protocol v1 in, one reply per
 * request id, pushes out. Bad input gets an error frame with a code from the one
 * table and the connection stays open, except where RFC 6455 requires a close
 * (text that is not UTF-8: 1007) or a frame passes the WebSocket layer's hard cap.
 */
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { CloseCodes, parseRequest, type CodeName, type Request } from '@fieldlink/protocol';
import type { BrowserContext } from './context.js';
import { frameId } from '../../bus/shape.js';
import { BrowserSession, type SessionLimits } from './session.js';
import { sub, unsub } from './ops/sub.js';
import { pub } from './ops/pub.js';
import { devices, history } from './ops/query.js';
import { call } from './ops/call.js';
import { auth } from './ops/auth.js';
import { closeReasonMustBeUtf8 } from '../ws-close.js';
import { alertOp } from './ops/alerts.js';

export interface BrowserDoorOptions extends SessionLimits {
  maxFrameBytes: number;
}

export interface BrowserDoor {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  readonly sessions: ReadonlySet<BrowserSession>;
  /** Pushes sent and dropped over the door's life, closed connections included. */
  totals(): { sent: number; dropped: number };
  close(code: number, reason: string): Promise<void>;
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

export function createBrowserDoor(ctx: BrowserContext, opts: BrowserDoorOptions): BrowserDoor {
  // The WebSocket layer's own cap sits above maxFrameBytes so oversized frames get an error frame, not a close.
  const wss = new WebSocketServer({ noServer: true, maxPayload: Math.max(opts.maxFrameBytes * 4, 1 << 20), skipUTF8Validation: true, perMessageDeflate: false, clientTracking: false });
  const sessions = new Set<BrowserSession>();
  const retired = { sent: 0, dropped: 0 };
  const countFail = (code: CodeName) => ctx.security.countError('ws', code);

  const dispatch = async (s: BrowserSession, req: Request): Promise<void> => {
    switch (req.op) {
      case 'auth':
        return auth(ctx, s, req);
      case 'ping':
        return s.reply(req.id, { ts: Date.now() });
    }
    // Everything below needs an identity (design.md: nobody in who doesn't belong).
    if (!s.identity) return s.fail(req.id, 'UNAUTHENTICATED', 'send {"op":"auth"} with a token or user and password first');
    switch (req.op) {
      case 'sub':
        return sub(ctx, s, req);
      case 'unsub':
        return unsub(ctx, s, req);
      case 'pub':
        return pub(ctx, s, req);
      case 'history':
        return history(ctx, s, req);
      case 'devices':
        return devices(ctx, s, req);
      case 'call':
        return call(ctx, s, req);
      case 'alerts':
      case 'ack':
      case 'rules':
      case 'putRule':
      case 'deleteRule':
        return alertOp(ctx, s, req);
    }
  };

  const onConnection = (ws: WebSocket, raw: Duplex, req: IncomingMessage) => {
    closeReasonMustBeUtf8(ws);
    const s = new BrowserSession(ws, raw, ctx.security.peer(req).address, opts, countFail);
    const session = ctx.security.sessions.fromRequest(req);
    if (session) s.become(session, ctx.security.live);
    else s.identity = ctx.security.anonymousFor(req);
    s.bucket = ctx.security.publishBucket();
    sessions.add(s);
    // A connection that cannot act anonymously must authenticate before the deadline.
    const deadline = s.identity
      ? undefined
      : setTimeout(() => !s.identity && s.close(CloseCodes.AUTH_TIMEOUT.code, 'authentication timeout'), ctx.security.authTimeoutMs);
    // Request ids in progress; allocated on first use (idle connections are the common case: keep them small).
    let inFlight: Set<string> | undefined;
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const buf = toBuffer(data);
      if (buf.length > opts.maxFrameBytes) return s.fail(undefined, 'FRAME_TOO_LARGE', `frame of ${buf.length} bytes; the limit is ${opts.maxFrameBytes}`);
      if (isBinary) return s.fail(undefined, 'NOT_UTF8', 'binary frames are not accepted here: send JSON text frames');
      if (!isUtf8(buf)) {
        s.fail(undefined, 'NOT_UTF8');
        return s.close(CloseCodes.INVALID_PAYLOAD.code, 'invalid UTF-8'); // RFC 6455 §8.1
      }
      // Nesting is bounded before parsing: everything downstream (JSON.stringify included) recurses on it.
      const deep = ctx.security.shapes.checkFrame('ws', buf);
      if (deep) return s.fail(frameId(buf), 'PAYLOAD_LIMIT', deep.message);
      const parsed = parseRequest(buf.toString('utf8'));
      if (!parsed.ok) return s.fail(parsed.id, parsed.code, parsed.message);
      const r = parsed.value;
      if (inFlight?.has(r.id)) return s.fail(r.id, 'DUPLICATE_ID');
      (inFlight ??= new Set()).add(r.id);
      dispatch(s, r)
        .catch((err: unknown) => {
          // summarised: a client that can trigger one failure can trigger it in a loop
          ctx.security.logs.note('error', `failed:ws:${r.op}:${(err as Error)?.message}`, { err, op: r.op, reqId: r.id }, 'browser request failed');
          s.fail(r.id, 'INTERNAL');
        })
        .finally(() => inFlight?.delete(r.id));
    });
    ws.on('close', () => {
      clearTimeout(deadline);
      s.become(undefined, ctx.security.live);
      sessions.delete(s);
      retired.sent += s.sent;
      retired.dropped += s.dropped;
      for (const f of s.filters) ctx.fanout.remove(s, f);
      s.filters.clear();
    });
    ws.on('error', (err) => ctx.log.debug({ err, remote: s.remote }, 'browser socket error'));
  };

  return {
    sessions,
    totals() {
      const t = { ...retired };
      for (const x of sessions) {
        t.sent += x.sent;
        t.dropped += x.dropped;
      }
      return t;
    },
    handleUpgrade(req, socket, head) {
      wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, socket, req));
    },
    async close(code, reason) {
      for (const s of sessions) s.close(code, reason);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
