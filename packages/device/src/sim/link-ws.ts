/**
 * DeviceLink over the hub's JSON WebSocket device door (`ws://hub/ws/device`):
 * text frames of JSON. Session: `auth` (reply awaited), then `meta`; telemetry
 * frames carry an `id` when the caller wants an acknowledgement, and the hub
 * replies exactly once `{id, ok, result|error}`. Commands arrive as
 * `{op:"cmd", id, method, params}` and are answered `{op:"res", id, ok, …}`.
 * The hub sets the device's online/offline status itself for this door, so a
 * graceful stop is a normal close (code 1000) and an abrupt one a socket destroy.
 */
import WebSocket from 'ws';
import { errorMessage, type DeviceLink, type DeviceLinkOptions } from './link.js';

interface Reply { id?: string; ok?: boolean; op?: string; method?: string; params?: unknown; error?: { code?: number; message?: string } }

interface Pending { resolve: (v: unknown) => void; reject: (e: Error) => void }

export class WsDeviceLink implements DeviceLink {
  readonly #o: DeviceLinkOptions;
  #ws: WebSocket | undefined;
  #connected = false;
  #stopped = false;
  #seq = 0;
  #pending = new Map<string, Pending>();
  #retry: NodeJS.Timeout | undefined;

  constructor(opts: DeviceLinkOptions) {
    this.#o = opts;
  }

  get connected(): boolean {
    return this.#connected;
  }

  start(): Promise<void> {
    return this.#open();
  }

  #open(): Promise<void> {
    const o = this.#o;
    const ws = new WebSocket(o.url, { handshakeTimeout: o.connectTimeoutMs ?? 30_000 });
    this.#ws = ws;
    ws.on('message', (data, isBinary) => { if (!isBinary) this.#onFrame(ws, data.toString()); });
    const session = new Promise<void>((resolve, reject) => {
      ws.once('open', () => {
        this.#session(ws).then(resolve, (err: unknown) => { ws.terminate(); reject(err as Error); });
      });
      ws.once('error', (err) => reject(new Error(`${o.deviceId}: cannot connect to ${o.url}: ${errorMessage(err)}`, { cause: err })));
    });
    ws.on('error', (err) => { if (this.#connected) o.onLog?.(`${o.deviceId}: ${errorMessage(err)}`); });
    ws.once('close', () => this.#onClose(ws));
    return session;
  }

  async #session(ws: WebSocket): Promise<void> {
    const o = this.#o;
    await this.#request(ws, { op: 'auth', device: o.deviceId, ...(o.secret !== undefined ? { secret: o.secret } : {}) });
    await this.#request(ws, { op: 'meta', meta: o.meta });
    this.#connected = true;
    o.onState?.(true);
  }

  #onClose(ws: WebSocket): void {
    if (ws !== this.#ws) return;
    const was = this.#connected;
    this.#connected = false;
    for (const p of this.#pending.values()) p.reject(new Error('connection closed before the hub acknowledged'));
    this.#pending.clear();
    if (was) this.#o.onState?.(false);
    // Only a lost session reconnects here; a failed attempt is retried by #scheduleReconnect's catch,
    // and a failed first attempt rejects start() instead.
    if (was && !this.#stopped) this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (this.#stopped) return;
      this.#open().catch((err: unknown) => {
        this.#o.onLog?.(`${this.#o.deviceId}: reconnect failed: ${errorMessage(err)}`);
        if (!this.#stopped) this.#scheduleReconnect();
      });
    }, this.#o.reconnectMs ?? 1000);
  }

  #request(ws: WebSocket, frame: Record<string, unknown>): Promise<unknown> {
    const id = String(++this.#seq);
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ ...frame, id }), (err) => {
        if (err) { this.#pending.delete(id); reject(err); }
      });
    });
  }

  #onFrame(ws: WebSocket, text: string): void {
    let f: Reply;
    try {
      f = JSON.parse(text) as Reply;
    } catch {
      return;
    }
    if (f.op === 'cmd' && typeof f.id === 'string' && typeof f.method === 'string') {
      const id = f.id;
      this.#o.onCommand(f.method, f.params).then(
        (result) => send(ws, { op: 'res', id, ok: true, result: result ?? null }),
        (err: unknown) => send(ws, { op: 'res', id, ok: false, error: { message: errorMessage(err) } }),
      );
      return;
    }
    if (f.op === 'error') {
      this.#o.onLog?.(`${this.#o.deviceId}: hub error ${f.error?.code ?? ''} ${f.error?.message ?? ''}`);
      return;
    }
    const p = typeof f.id === 'string' ? this.#pending.get(f.id) : undefined;
    if (!p) return;
    this.#pending.delete(f.id!);
    if (f.ok) p.resolve(f);
    else p.reject(new Error(`hub refused: ${f.error?.code ?? ''} ${f.error?.message ?? 'no message'}`.replace('  ', ' ')));
  }

  async telemetry(data: Record<string, number>, ts: number, opts: { ack?: boolean } = {}): Promise<void> {
    const ws = this.#ws;
    if (!ws || !this.#connected) throw new Error('not connected');
    if (opts.ack) {
      await this.#request(ws, { op: 'telemetry', data, ts });
      return;
    }
    await new Promise<void>((resolve, reject) => ws.send(JSON.stringify({ op: 'telemetry', data, ts }), (err) => (err ? reject(err) : resolve())));
  }

  async stop(opts: { graceful?: boolean } = {}): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retry);
    const ws = this.#ws;
    if (!ws) return;
    const closed = new Promise<void>((resolve) => (ws.readyState === WebSocket.CLOSED ? resolve() : ws.once('close', () => resolve())));
    if (opts.graceful) ws.close(1000, 'shutdown');
    else ws.terminate();
    await closed;
  }
}

function send(ws: WebSocket, frame: Record<string, unknown>): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
}
