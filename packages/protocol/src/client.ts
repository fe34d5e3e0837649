/**
 * The typed client of browser protocol v1, for browsers and Node. Node 20 has no
 * global WebSocket: pass the `ws` package's constructor as `WebSocket`.
 *
 * Contracts:
 *  - Reconnects forever (until `close()`) with exponential backoff and full jitter,
 *    re-authenticates, then re-sends every active `sub`; `state` events tell the UI.
 *  - Requests issued while disconnected wait for the connection up to their timeout.
 *    Requests in flight when the socket drops fail with CONNECTION_LOST: the client
 *    never re-sends a `pub` or `call` on its own (they are not idempotent).
 *  - A push reaches every handler whose filter matches its topic, once.
 */
import { Codes, policyOf, type CodeName, type Policy } from './codes.js';
import type { ErrorBody, MsgPush, Push, Reply } from './frames.js';
import { topicMatches } from './topics.js';

export interface WebSocketLike {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
}
export type WebSocketCtor = new (url: string) => WebSocketLike;

export interface ClientOptions {
  url: string;
  WebSocket?: WebSocketCtor;
  /** An API token (`flt_…`), sent in the `auth` request of every connection. */
  token?: string;
  /** Or a user and password. Browsers on the hub's own origin usually need neither: the session cookie rides on the upgrade. */
  credentials?: { user: string; password: string };
  /** Default request timeout in ms (default 10,000). */
  timeoutMs?: number;
  backoff?: { minMs?: number; maxMs?: number };
}

export type ClientState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';
/** `error`: why the last handshake failed; with an access error (3xxx) the client stops (state `closed`) instead of retrying the same credentials. */
export interface StateEvent { state: ClientState; retryInMs?: number; attempt?: number; closeCode?: number; reconnected?: boolean; downSince?: number; error?: FieldlinkError }
export type MsgHandler = (msg: MsgPush) => void;

export class FieldlinkError extends Error {
  readonly code: number;
  readonly codeName: string;
  readonly policy: Policy;
  constructor(body: ErrorBody) {
    super(body.message);
    this.name = 'FieldlinkError';
    this.code = body.code;
    this.codeName = body.name;
    this.policy = policyOf(body.code);
  }
}

const localError = (name: CodeName, message?: string) => new FieldlinkError({ code: Codes[name].code, name, message: message ?? Codes[name].message });

interface Pending { resolve(v: unknown): void; reject(e: Error): void; timer: ReturnType<typeof setTimeout>; frame: string; sent: boolean }

export class FieldlinkClient {
  state: ClientState = 'idle';
  /** Hub info from the last `auth` reply (version, epoch…). */
  hub: Record<string, unknown> = {};
  private ws: WebSocketLike | undefined;
  private nextId = 1;
  private attempt = 0;
  private downSince = 0;
  private everOpen = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly pending = new Map<string, Pending>();
  private readonly subs = new Map<string, { handlers: Set<MsgHandler>; retained: boolean }>();
  private readonly listeners = new Set<(e: StateEvent) => void>();
  private readonly errorListeners = new Set<(e: FieldlinkError) => void>();
  private readonly Ctor: WebSocketCtor;
  private openWaiters: { resolve(): void; reject(e: Error): void }[] = [];

  constructor(private readonly opts: ClientOptions) {
    const g = globalThis as { WebSocket?: WebSocketCtor };
    const Ctor = opts.WebSocket ?? g.WebSocket;
    if (!Ctor) throw new Error('no WebSocket implementation: pass { WebSocket } (e.g. from the "ws" package)');
    this.Ctor = Ctor;
  }

  onState(fn: (e: StateEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Error pushes (`{op:"error"}`): bad frames the hub could not tie to a request. */
  onError(fn: (e: FieldlinkError) => void): () => void {
    this.errorListeners.add(fn);
    return () => this.errorListeners.delete(fn);
  }

  /** Resolves once connected, authenticated and resubscribed for the first time; rejects when the hub refuses the credentials. */
  connect(): Promise<void> {
    if (this.state === 'open') return Promise.resolve();
    const p = new Promise<void>((resolve, reject) => this.openWaiters.push({ resolve, reject }));
    if (this.state === 'idle' || this.state === 'closed') this.open();
    return p;
  }

  close(): void {
    this.setState({ state: 'closed' });
    clearTimeout(this.retryTimer);
    this.ws?.close(1000, 'client closed');
    this.ws = undefined;
    this.failAll('CONNECTION_LOST', 'client closed');
  }

  async subscribe(filter: string, handler: MsgHandler, opts: { retained?: boolean } = {}): Promise<() => Promise<void>> {
    let entry = this.subs.get(filter);
    const first = !entry;
    if (!entry) this.subs.set(filter, (entry = { handlers: new Set(), retained: opts.retained ?? true }));
    entry.handlers.add(handler);
    if (first) {
      try {
        await this.request('sub', { filter, retained: entry.retained });
      } catch (e) {
        this.subs.delete(filter);
        throw e;
      }
    }
    return async () => {
      const cur = this.subs.get(filter);
      if (!cur || !cur.handlers.delete(handler) || cur.handlers.size > 0) return;
      this.subs.delete(filter);
      if (this.state === 'open') await this.request('unsub', { filter });
    };
  }

  publish(topic: string, payload: unknown, opts: { retain?: boolean; qos?: 0 | 1 | 2; encoding?: 'json' | 'text' | 'base64' } = {}) {
    return this.request('pub', { topic, payload, ...opts });
  }
  history<T = unknown>(params: { device: string; metric: string; from?: number | string; to?: number | string; bucket?: number | string; limit?: number }) {
    return this.request<T>('history', params);
  }
  devices<T = unknown>(device?: string) {
    return this.request<T>('devices', device === undefined ? {} : { device });
  }
  call<T = unknown>(device: string, method: string, params: Record<string, unknown> = {}, timeoutMs = 5000) {
    return this.request<T>('call', { device, method, params, timeout: timeoutMs }, timeoutMs + 2000);
  }
  ping() {
    return this.request<{ ts: number }>('ping', {});
  }

  request<T = unknown>(op: string, fields: Record<string, unknown>, timeoutMs = this.opts.timeoutMs ?? 10_000): Promise<T> {
    const id = String(this.nextId++);
    const frame = JSON.stringify({ ...fields, op, id });
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(localError('REQUEST_TIMEOUT', `no reply to ${op} within ${timeoutMs} ms`));
      }, timeoutMs);
      const p: Pending = { resolve: resolve as (v: unknown) => void, reject, timer, frame, sent: false };
      this.pending.set(id, p);
      if (this.state === 'open' || (op === 'auth' || op === 'sub')) this.trySend(p);
    });
  }

  private trySend(p: Pending): void {
    if (p.sent || !this.ws || this.ws.readyState !== 1) return;
    p.sent = true;
    this.ws.send(p.frame);
  }

  private open(): void {
    this.setState({ state: this.everOpen ? 'reconnecting' : 'connecting', attempt: this.attempt });
    let ws: WebSocketLike;
    try {
      ws = new this.Ctor(this.opts.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onmessage = (ev) => this.onFrame(typeof ev.data === 'string' ? ev.data : String(ev.data));
    ws.onerror = () => undefined; // onclose follows and drives reconnection
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      if (this.state === 'open') this.downSince = Date.now();
      this.failAll('CONNECTION_LOST');
      if (this.state !== 'closed') this.scheduleReconnect(ev.code);
    };
    ws.onopen = () => void this.handshake(ws);
  }

  private async handshake(ws: WebSocketLike): Promise<void> {
    const creds = this.opts.token ? { token: this.opts.token } : this.opts.credentials ? { ...this.opts.credentials } : {};
    try {
      this.hub = await this.request<Record<string, unknown>>('auth', creds);
    } catch (e) {
      if (e instanceof FieldlinkError && e.policy === 'access') {
        // The same credentials will fail again: stop and let the application ask for new ones.
        this.ws = undefined;
        ws.close(1000, 'authentication failed');
        this.setState({ state: 'closed', error: e });
        this.failAll('CONNECTION_LOST', e.message);
        const waiters = this.openWaiters;
        this.openWaiters = [];
        waiters.forEach((w) => w.reject(e));
        return;
      }
      if (this.ws === ws) ws.close(1000, 'handshake failed');
      return;
    }
    // Re-subscribe; a filter the hub now refuses (rules changed) is dropped and reported, the rest go on.
    const results = await Promise.allSettled([...this.subs].map(([filter, s]) => this.request('sub', { filter, retained: s.retained }).catch((e: unknown) => {
      if (e instanceof FieldlinkError && e.policy !== 'retry') {
        this.subs.delete(filter);
        for (const fn of this.errorListeners) fn(e);
        return;
      }
      throw e;
    })));
    if (results.some((r) => r.status === 'rejected')) {
      if (this.ws === ws) ws.close(1000, 'handshake failed');
      return;
    }
    if (this.ws !== ws) return;
    const reconnected = this.everOpen;
    this.everOpen = true;
    this.attempt = 0;
    this.setState({ state: 'open', reconnected, ...(reconnected ? { downSince: this.downSince } : {}) });
    for (const p of this.pending.values()) this.trySend(p);
    const waiters = this.openWaiters;
    this.openWaiters = [];
    waiters.forEach((w) => w.resolve());
  }

  private scheduleReconnect(closeCode?: number): void {
    const min = this.opts.backoff?.minMs ?? 250;
    const max = this.opts.backoff?.maxMs ?? 15_000;
    const ceiling = Math.min(max, min * 2 ** Math.min(this.attempt, 16));
    const delay = Math.round(min / 2 + Math.random() * ceiling); // full jitter, with a floor
    this.attempt++;
    this.setState({ state: 'reconnecting', retryInMs: delay, attempt: this.attempt, ...(closeCode ? { closeCode } : {}) });
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  private onFrame(text: string): void {
    let f: Reply | Push;
    try {
      f = JSON.parse(text) as Reply | Push;
    } catch {
      return;
    }
    if ('op' in f) {
      if (f.op === 'msg') this.dispatch(f);
      else if (f.op === 'error') for (const fn of this.errorListeners) fn(new FieldlinkError(f.error));
      return;
    }
    const p = this.pending.get(f.id);
    if (!p) return;
    this.pending.delete(f.id);
    clearTimeout(p.timer);
    if (f.ok) p.resolve(f.result);
    else p.reject(new FieldlinkError(f.error));
  }

  private dispatch(m: MsgPush): void {
    for (const [filter, s] of this.subs) {
      if (!topicMatches(filter, m.topic)) continue;
      for (const h of s.handlers) h(m);
    }
  }

  private failAll(name: CodeName, message?: string): void {
    for (const [id, p] of this.pending) {
      if (!p.sent && name === 'CONNECTION_LOST' && this.state !== 'closed') continue; // still waiting for a connection
      this.pending.delete(id);
      clearTimeout(p.timer);
      p.reject(localError(name, message));
    }
  }

  private setState(e: StateEvent): void {
    this.state = e.state;
    for (const fn of this.listeners) fn(e);
  }
}
