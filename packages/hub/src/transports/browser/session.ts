/**
 * One browser connection: its subscriptions, its outgoing queue policy and the
 * de-duplication of messages matched by several of its filters.
 *
 * Slow-consumer policy (docs/security.md, `--ws-soft-limit-bytes`,
 * `--ws-hard-limit-bytes`, `--ws-stall-timeout-ms`): while the socket has more than
 * the soft limit buffered, pushes wait in a queue of at most the soft limit's size
 * where the *oldest* are dropped first (counted), so a slow dashboard catches up
 * on fresh values; replies (command answers included) are never dropped or
 * queued. A connection stalled for the stall timeout, or with more than the hard
 * limit buffered, is closed with 4008 so one stuck browser cannot hold memory.
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { CloseCodes, errorBody, type CodeName } from '@fieldlink/protocol';
import type { BusMessage } from '../../bus/types.js';
import type { FanoutTarget } from './fanout.js';
import type { Identity } from '../../auth/acl.js';
import type { TokenBucket } from '../../auth/limits.js';

export interface SessionLimits {
  softLimitBytes: number;
  hardLimitBytes: number;
  stallTimeoutMs: number;
  maxSubscriptions: number;
}

export class BrowserSession implements FanoutTarget {
  readonly filters = new Set<string>();
  /** Who this connection is; undefined until it authenticates (when anonymous access is off). */
  identity: Identity | undefined;
  bucket: TokenBucket | undefined;
  /** Set once a filter overlaps a deny rule (auth/acl.ts `screened`): every push is checked against the rules first. */
  screen: ((topic: string) => boolean) | undefined;
  dropped = 0;
  sent = 0;
  private lastMsg: BusMessage | undefined;
  /** While retained values of a new subscription are being sent, live pushes wait here. */
  private held: Buffer[] | undefined;
  private holding = 0;
  private closed = false;
  private queue: Buffer[] | undefined; // allocated when the socket first falls behind
  private queueBytes = 0;
  private stalledSince = 0;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;

  /** `raw` is the upgraded socket under `ws`: pushes are prebuilt frames written to it directly. */
  constructor(
    readonly ws: WebSocket,
    private readonly raw: Duplex,
    readonly remote: string,
    private readonly limits: SessionLimits,
    /** Shared by the door's sessions: counts error replies by code for /metrics. */
    private readonly countFail: (code: CodeName) => void,
  ) {}

  get maxSubscriptions(): number {
    return this.limits.maxSubscriptions;
  }

  push(frame: Buffer, msg: BusMessage): void {
    // The bus hands one publish to each matching filter in turn with the same object (bus contract item 2).
    if (msg === this.lastMsg) return;
    this.lastMsg = msg;
    if (this.screen && !this.screen(msg.topic)) return;
    if (this.held) this.held.push(frame);
    else this.write(frame);
  }

  hold(): void {
    this.holding++;
    this.held ??= [];
  }

  release(): void {
    if (--this.holding > 0 || !this.held) return;
    const frames = this.held;
    this.held = undefined;
    for (const f of frames) this.write(f);
  }

  /** Retained values sent to this session only, outside the shared fan-out. */
  pushDirect(frame: Buffer): void {
    this.write(frame);
  }

  reply(id: string, result: unknown): void {
    this.send(JSON.stringify({ id, ok: true, result }));
  }

  fail(id: string | undefined, code: CodeName, message?: string): void {
    this.countFail(code);
    const error = errorBody(code, message);
    this.send(JSON.stringify(id === undefined ? { op: 'error', error } : { id, ok: false, error }));
  }

  /** Replies: never dropped or queued (only the hard limit applies). */
  private send(text: string): void {
    if (this.closed || this.ws.readyState !== 1) return;
    if (this.ws.bufferedAmount > this.limits.hardLimitBytes) return this.kick();
    this.ws.send(text);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.close(code, reason);
  }

  private write(frame: Buffer): void {
    if (this.closed || this.ws.readyState !== 1) return;
    if (this.ws.bufferedAmount > this.limits.hardLimitBytes) return this.kick();
    if (this.queue?.length || this.ws.bufferedAmount > this.limits.softLimitBytes) return this.enqueue(frame);
    this.sent++;
    corkForThisTurn(this.raw, frame.length);
    this.raw.write(frame);
  }

  private enqueue(frame: Buffer): void {
    const queue = (this.queue ??= []);
    if (queue.length === 0) this.stalledSince = Date.now();
    queue.push(frame);
    this.queueBytes += frame.length;
    while (this.queueBytes > this.limits.softLimitBytes && queue.length > 1) {
      this.queueBytes -= queue.shift()!.length;
      this.dropped++;
    }
    this.flushTimer ??= setTimeout(() => this.flush(), 20);
  }

  private flush(): void {
    this.flushTimer = undefined;
    const queue = this.queue;
    if (!queue || this.closed || this.ws.readyState !== 1) return;
    while (queue.length > 0 && this.ws.bufferedAmount <= this.limits.softLimitBytes) {
      const f = queue.shift()!;
      this.queueBytes -= f.length;
      this.sent++;
      corkForThisTurn(this.raw, f.length);
      this.raw.write(f);
    }
    if (queue.length === 0) return;
    if (Date.now() - this.stalledSince > this.limits.stallTimeoutMs) return this.kick();
    this.flushTimer = setTimeout(() => this.flush(), 20);
  }

  private kick(): void {
    clearTimeout(this.flushTimer);
    this.queue = undefined;
    this.close(CloseCodes.SLOW_CONSUMER.code, 'slow consumer');
    this.ws.terminate();
  }
}

/**
 * Write coalescing: the first push to a socket in an event-loop turn corks it,
 * and one setImmediate uncorks every socket touched, so a burst of messages
 * leaves as one writev per browser instead of one system call per message.
 * A batch is flushed early at CORK_BYTES, so `bufferedAmount` (which counts
 * corked bytes) keeps meaning "waiting for the network" for the slow-consumer
 * policy.
 */
const CORK_BYTES = 16 * 1024;
const corked = new Map<Duplex, number>();
function corkForThisTurn(socket: Duplex, bytes: number): void {
  const held = corked.get(socket);
  if (held === undefined) {
    if (corked.size === 0) queueMicrotask(uncorkAll);
    socket.cork();
    corked.set(socket, bytes);
  } else if (held + bytes > CORK_BYTES) {
    socket.uncork();
    socket.cork();
    corked.set(socket, bytes);
  } else corked.set(socket, held + bytes);
}
function uncorkAll(): void {
  for (const s of corked.keys()) s.uncork();
  corked.clear();
}
