/**
 * Attack peers that choose their source address (127.0.0.x), for the guessing
 * tests: raw MQTT CONNECT over TCP and over /mqtt (MQTT.js cannot bind a local
 * address for TCP), the dashboard login over HTTP, and pipelined `auth` frames
 * over several WebSockets. And the legitimate traffic every attack runs beside.
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { request } from 'node:http';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { RawClient, mqttConnect, until, wsUrl } from '../helpers.js';
import type { Secured } from './fixture.js';

const str = (s: string) => {
  const b = Buffer.from(s);
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
};

/** An MQTT 3.1.1 CONNECT with user name and password, clean session. */
export function connectPacket(clientId: string, username: string, password: string): Buffer {
  const body = Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2, 0, 60]), str(clientId), str(username), str(password)]);
  const len: number[] = [];
  let n = body.length;
  do {
    let d = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) d |= 128;
    len.push(d);
  } while (n > 0);
  return Buffer.concat([Buffer.from([0x10, ...len]), body]);
}

/** The CONNACK return code for these credentials (0 accepted, 4 bad credentials, 5 not authorized); -1 if closed without one. */
export function mqttTcpConnack(port: number, user: string, password: string, localAddress: string, clientId = user): Promise<number> {
  return connackOver(connect({ host: '127.0.0.1', port, localAddress }), 'connect', user, password, clientId);
}

/** The same over MQTTS, trusting `ca`. */
export function mqttTlsConnack(port: number, ca: Buffer, user: string, password: string, localAddress: string, clientId = user): Promise<number> {
  return connackOver(tlsConnect({ socket: connect({ host: '127.0.0.1', port, localAddress }), servername: 'localhost', ca }), 'secureConnect', user, password, clientId);
}

function connackOver(sock: Socket, ready: string, user: string, password: string, clientId: string): Promise<number> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const done = (rc: number) => (sock.destroy(), resolve(rc));
    const timer = setTimeout(() => done(-2), 30_000);
    sock.on(ready, () => sock.write(connectPacket(clientId, user, password)));
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 4 && buf[0] === 0x20) {
        clearTimeout(timer);
        done(buf[3]!);
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => (clearTimeout(timer), resolve(-1)));
  });
}

/** The same over the /mqtt WebSocket door. */
export function mqttWsConnack(url: string, user: string, password: string, localAddress: string, clientId = user): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, ['mqtt'], { localAddress });
    const done = (rc: number) => (ws.terminate(), resolve(rc));
    const timer = setTimeout(() => done(-2), 30_000);
    ws.on('open', () => ws.send(connectPacket(clientId, user, password)));
    let buf = Buffer.alloc(0);
    ws.on('message', (d: Buffer) => {
      buf = Buffer.concat([buf, d]); // the broker may write a packet over several frames
      if (buf.length >= 4 && buf[0] === 0x20) {
        clearTimeout(timer);
        done(buf[3]!);
      }
    });
    ws.on('error', () => undefined);
    ws.on('close', () => (clearTimeout(timer), resolve(-1)));
  });
}

/** POST /api/v1/session from `localAddress`: the status and the error name, if any. */
export function login(base: string, user: string, password: string, localAddress: string): Promise<{ status: number; error?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/api/v1/session`, { method: 'POST', localAddress, agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, error: (JSON.parse(body) as { error?: { name: string } }).error?.name }));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ user, password }));
  });
}

/** GET `path` with a bearer token from `localAddress`: the status and the error name, if any. */
export function bearer(base: string, path: string, token: string, localAddress: string): Promise<{ status: number; error?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { localAddress, agent: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, error: (JSON.parse(body) as { error?: { name: string } }).error?.name }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Open `n` WebSockets to `url` from `localAddress`. */
export async function sockets(url: string, n: number, localAddress: string): Promise<WebSocket[]> {
  return Promise.all(
    Array.from({ length: n }, () => {
      const ws = new WebSocket(url, { localAddress });
      return new Promise<WebSocket>((res, rej) => (ws.once('open', () => res(ws)), ws.once('error', rej)));
    }),
  );
}

/** Send every frame at once, round-robin over the sockets, and collect each reply by id: 'ok' or the error name. */
export async function pipelined(socks: WebSocket[], frames: Array<Record<string, unknown>>, ms = 60_000): Promise<string[]> {
  const replies = new Map<string, string>();
  const all = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${replies.size} of ${frames.length} replies within ${ms} ms`)), ms);
    for (const ws of socks) {
      ws.on('message', (d: Buffer) => {
        const f = JSON.parse(d.toString()) as { id?: string; ok?: boolean; error?: { name: string } };
        if (f.id === undefined) return;
        replies.set(f.id, f.ok ? 'ok' : (f.error?.name ?? '?'));
        if (replies.size === frames.length) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
  });
  frames.forEach((f, i) => socks[i % socks.length]!.send(JSON.stringify({ ...f, id: `g${i}` })));
  await all;
  return frames.map((_, i) => replies.get(`g${i}`)!);
}

/**
 * A legitimate device (d1 over MQTT, one reading every 50 ms) and a legitimate
 * viewer (/ws, viewer token) subscribed to its telemetry, running until `stop`.
 */
export async function legitTraffic(s: Secured) {
  const device = await mqttConnect(`mqtt://127.0.0.1:${s.hub.mqttPort}`, { username: 'd1', password: s.secret.d1, clientId: 'd1' });
  const viewer = await RawClient.open(wsUrl(s.hub, '/ws'));
  assert.equal((await viewer.request('auth', { token: s.tokens.viewer })).ok, true);
  assert.equal((await viewer.request('sub', { filter: 'devices/d1/telemetry' })).ok, true);
  let published = 0;
  const timer = setInterval(() => device.publish('devices/d1/telemetry', JSON.stringify({ lux: ++published })), 50);
  const seen = () => viewer.msgs('devices/d1/telemetry').map((m) => (m.payload as { lux: number }).lux);
  return {
    get published() {
      return published;
    },
    /** Readings the viewer has received so far. */
    received: () => seen().length,
    /** Every reading published so far reached the viewer, none missing, and both are still connected. */
    async unaffected(): Promise<void> {
      const target = published;
      await until(() => seen().includes(target), 15_000, `legit reading ${target}`);
      const got = new Set(seen());
      const missing = Array.from({ length: target }, (_, i) => i + 1).filter((v) => !got.has(v));
      assert.deepEqual(missing, [], 'the viewer received every reading');
      assert.ok(device.connected && viewer.closed === undefined, 'both still connected');
    },
    async stop(): Promise<void> {
      clearInterval(timer);
      viewer.close();
      await device.endAsync();
    },
  };
}
