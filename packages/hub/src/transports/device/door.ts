/**
 * The JSON device door (`/ws/device`): the device conventions as frames, so a
 * board with only a WebSocket client is a first-class device. The hub keeps the
 * device's retained status itself: online after `auth`, offline when the socket
 * closes (the WebSocket equivalent of an MQTT last will).
 * A `telemetry` or `meta` frame with an `id` asks for an acknowledgement: its
 * reply comes after what it carries is committed (design.md: "an acknowledgement
 * means stored"; bus.publish with `durable`), or is an error the device retries:
 * OVERLOADED (ingest queue full) or STORE_UNAVAILABLE (the store failed).
 * Replies then follow commit order, not frame order: match them by `id`.
 */
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { CloseCodes, deviceTopic, errorBody, parseDeviceFrame, parseDeviceTopic, topicProblem, type CodeName, type DeviceFrame } from '@fieldlink/protocol';
import type { Logger } from 'pino';
import type { Bus, Subscription } from '../../bus/types.js';
import type { Identity, Security } from '../../auth/index.js';
import { frameId } from '../../bus/shape.js';
import type { TokenBucket } from '../../auth/limits.js';
import type { LiveHandle } from '../../auth/live.js';
import { closeReasonMustBeUtf8 } from '../ws-close.js';
import { RetainedLimitError } from '../../auth/retained-budget.js';
import { NotStored } from '../../bus/hold.js';

export interface DeviceDoorOptions {
  maxFrameBytes: number;
}

export interface DeviceDoor {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  readonly connected: number;
  close(code: number, reason: string): Promise<void>;
}

interface Conn {
  ws: WebSocket;
  remote: string;
  /** Came through a proxy: decides the anonymous role (auth/peer.ts). */
  proxied: boolean;
  device?: string;
  identity?: Identity;
  bucket: TokenBucket | undefined;
  cmdSub?: Subscription;
  /** Its entry in the live registry: a revocation of its credentials closes it (4003). */
  live?: LiveHandle;
  /** Command ids forwarded to the device → method, so `res` frames find their topic. */
  open: Map<string, string>;
  replaced: boolean;
}

const MAX_OPEN_COMMANDS = 1000;

export function createDeviceDoor(bus: Bus, log: Logger, opts: DeviceDoorOptions, security: Security): DeviceDoor {
  const wss = new WebSocketServer({ noServer: true, maxPayload: Math.max(opts.maxFrameBytes * 4, 1 << 20), skipUTF8Validation: true, perMessageDeflate: false });
  const byDevice = new Map<string, Conn>();

  const send = (c: Conn, frame: object) => {
    if (c.ws.readyState === 1) c.ws.send(JSON.stringify(frame));
  };
  const ok = (c: Conn, id: string | undefined, result: unknown) => id !== undefined && send(c, { id, ok: true, result });
  const fail = (c: Conn, id: string | undefined, code: CodeName, message?: string) => {
    security.countError('ws_device', code);
    const error = errorBody(code, message);
    send(c, id === undefined ? { op: 'error', error } : { id, ok: false, error });
  };
  const status = (device: string, online: boolean, reason: string) =>
    bus.publish(deviceTopic.status(device), JSON.stringify({ online, ts: Date.now(), reason }), { retain: true, qos: 1 });

  const auth = async (c: Conn, f: Extract<DeviceFrame, { op: 'auth' }>) => {
    if (c.device) return fail(c, f.id, 'WRONG_TYPE', `already authenticated as "${c.device}"`);
    const device = f.device;
    // A secret or a device token must prove this very device id; without either, anonymous access decides.
    const creds = f.token !== undefined ? { token: f.token } : f.secret !== undefined ? { device, secret: f.secret } : {};
    const mark = security.live.mark();
    const r = await security.authenticator.authenticate(creds, c.remote, c.proxied);
    if (!r.ok) {
      security.authFailures.record('ws/device', c.remote, r.code, { device });
      return fail(c, f.id, r.code, r.message);
    }
    if (r.identity.kind === 'device' && r.identity.id !== device) return fail(c, f.id, 'FORBIDDEN', `these credentials are for device "${r.identity.id}"`);
    if (r.identity.kind !== 'device' && r.identity.kind !== 'anonymous') return fail(c, f.id, 'FORBIDDEN', 'the device door takes device credentials');
    if (!security.allow(r.identity, 'publish', deviceTopic.status(device), 'ws/device')) return fail(c, f.id, 'FORBIDDEN', `not allowed to act as "${device}"`);
    if (c.device) return fail(c, f.id, 'WRONG_TYPE', `already authenticated as "${c.device}"`); // a second auth raced this one
    if (c.ws.readyState !== 1) return; // closed while the credentials were checked
    c.identity = r.identity;
    c.live = security.live.register('ws_device', r.identity, () => c.ws.close(CloseCodes.REVOKED.code, 'credentials revoked or expired'), mark);
    if (!c.live) return c.ws.close(CloseCodes.TRY_AGAIN_LATER.code, 'hub busy');
    const prev = byDevice.get(device);
    if (prev) {
      prev.replaced = true;
      prev.ws.close(CloseCodes.REPLACED.code, 'replaced by a newer connection');
    }
    c.device = device;
    byDevice.set(device, c);
    c.cmdSub = await bus.subscribe(
      `devices/${device}/cmd/+`,
      (m) => {
        const t = parseDeviceTopic(m.topic);
        if (!t?.method) return;
        let body: { id?: unknown; params?: unknown };
        try {
          body = JSON.parse(m.payload.toString('utf8')) as typeof body;
        } catch {
          return;
        }
        if (typeof body.id !== 'string' || c.open.size >= MAX_OPEN_COMMANDS) return;
        c.open.set(body.id, t.method);
        send(c, { op: 'cmd', id: body.id, method: t.method, params: body.params ?? {} });
      },
      { retained: false },
    );
    await status(device, true, 'connected');
    ok(c, f.id, { device, ts: Date.now() });
  };

  const handle = async (c: Conn, f: DeviceFrame) => {
    if (f.op === 'auth') return auth(c, f);
    if (f.op === 'ping') return ok(c, f.id, { ts: Date.now() });
    const device = c.device;
    const who = c.identity;
    if (!device || !who) return fail(c, f.id, 'UNAUTHENTICATED', 'send {"op":"auth","device":"<id>"} first');
    const topic =
      f.op === 'meta' ? deviceTopic.meta(device) : f.op === 'telemetry' ? deviceTopic.telemetry(device) : f.op === 'pub' ? `devices/${device}/${f.topic}` : undefined;
    if (topic !== undefined) {
      // The rate first: refused publishes cost a token too, so refusals cannot be flooded past --publish-rate.
      if (c.bucket && !c.bucket.take()) {
        security.rateLimited++;
        return fail(c, f.id, 'RATE_LIMITED', 'publishing faster than --publish-rate allows');
      }
      // the device's prefix counts against the topic cap too (MAX_TOPIC_BYTES, as on every door)
      if (f.op === 'pub' && topicProblem(topic)) return fail(c, f.id, 'INVALID_TOPIC', `"devices/${device}/…" would be ${topicProblem(topic)}`);
      if (!security.allow(who, 'publish', topic, 'ws/device')) return fail(c, f.id, 'FORBIDDEN', `not allowed to publish to "${topic}"`);
    }
    /** Publish unless the payload passes a shape bound (bus/shape.ts); false when refused (answered). */
    const publish = async (t: string, payload: string, retain: boolean, durable = false) => {
      const bad = security.shapes.check('ws_device', t, payload, who);
      if (bad) {
        fail(c, f.id, 'PAYLOAD_LIMIT', bad.message);
        return false;
      }
      await bus.publish(t, payload, { retain, qos: 1, durable });
      return true;
    };
    switch (f.op) {
      case 'meta':
        if (await publish(deviceTopic.meta(device), JSON.stringify(f.meta), true, f.id !== undefined)) ok(c, f.id, null);
        return;
      case 'telemetry': {
        const body = f.ts === undefined ? f.data : { ...f.data, ts: f.ts };
        if (await publish(deviceTopic.telemetry(device), JSON.stringify(body), false, f.id !== undefined)) ok(c, f.id, null);
        return;
      }
      case 'pub': {
        const topic = `devices/${device}/${f.topic}`;
        const payload = typeof f.payload === 'string' ? f.payload : JSON.stringify(f.payload);
        if (await publish(topic, payload, f.retain ?? false)) ok(c, f.id, { topic });
        return;
      }
      case 'res': {
        const method = c.open.get(f.id);
        if (!method) return fail(c, undefined, 'WRONG_TYPE', `no open command with id "${f.id}"`);
        c.open.delete(f.id);
        const body = f.ok ? { id: f.id, ok: true, result: f.result ?? null } : { id: f.id, ok: false, error: { message: String(f.error?.message ?? 'error') } };
        await bus.publish(deviceTopic.cmdResponse(device, method), JSON.stringify(body), { qos: 1 });
        return;
      }
    }
  };

  const onConnection = (ws: WebSocket, req: IncomingMessage) => {
    closeReasonMustBeUtf8(ws);
    const { address: remote, proxied } = security.peer(req);
    const c: Conn = { ws, remote, proxied, bucket: security.publishBucket(), open: new Map(), replaced: false };
    const deadline = setTimeout(() => !c.device && ws.close(CloseCodes.AUTH_TIMEOUT.code, 'authentication timeout'), security.authTimeoutMs);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      if (buf.length > opts.maxFrameBytes) return fail(c, undefined, 'FRAME_TOO_LARGE', `frame of ${buf.length} bytes; the limit is ${opts.maxFrameBytes}`);
      if (isBinary) return fail(c, undefined, 'NOT_UTF8', 'binary frames are not accepted here: send JSON text frames');
      if (!isUtf8(buf)) {
        fail(c, undefined, 'NOT_UTF8');
        return ws.close(CloseCodes.INVALID_PAYLOAD.code, 'invalid UTF-8');
      }
      // Nesting is bounded before parsing: everything downstream (JSON.stringify included) recurses on it.
      const deep = security.shapes.checkFrame('ws_device', buf);
      if (deep) return fail(c, frameId(buf), 'PAYLOAD_LIMIT', deep.message);
      const parsed = parseDeviceFrame(buf.toString('utf8'));
      if (!parsed.ok) return fail(c, parsed.id, parsed.code, parsed.message);
      handle(c, parsed.value).catch((err: unknown) => {
        if (err instanceof RetainedLimitError) return fail(c, parsed.value.id, 'RETAINED_LIMIT', err.message);
        if (err instanceof NotStored) return fail(c, parsed.value.id, err.why === 'full' ? 'OVERLOADED' : 'STORE_UNAVAILABLE', `not stored: ${err.message}`);
        // summarised: a device that can trigger one failure can trigger it in a loop
        security.logs.note('error', `failed:ws_device:${c.device}:${(err as Error)?.message}`, { err, device: c.device }, 'device frame failed');
        fail(c, parsed.value.id, 'INTERNAL');
      });
    });
    ws.on('close', () => {
      clearTimeout(deadline);
      c.live?.unregister();
      const device = c.device;
      void c.cmdSub?.unsubscribe();
      if (!device) return;
      if (byDevice.get(device) === c) byDevice.delete(device);
      if (!c.replaced) status(device, false, 'closed').catch((err: unknown) => log.warn({ err, device }, 'could not publish offline status'));
    });
    ws.on('error', (err) => log.debug({ err }, 'device socket error'));
  };

  return {
    get connected() {
      return byDevice.size;
    },
    handleUpgrade(req, socket, head) {
      wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req));
    },
    async close(code, reason) {
      for (const ws of wss.clients) ws.close(code, reason);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
