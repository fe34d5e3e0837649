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
 *
 * Replays (retained values of a new subscription, frames missed before a
 * resume) are sent by `replay` with flow control: never more than the soft limit
 * buffered, yielding to the event loop every REPLAY_SLICE_BYTES, so one large
 * replay neither holds the frames of all its messages at once nor stalls other
 * clients; replayed frames are not dropped (a replay that cannot drain within
 * the stall timeout closes the connection, 4008). Live pushes for the session
 * wait meanwhile (retained before live) in a buffer bounded like the queue:
 * past the soft limit its oldest are dropped, counted.
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { CloseCodes, errorBody, type CodeName } from '@fieldlink/protocol';
import type { BusMessage } from '../../bus/types.js';
import type { FanoutTarget } from './fanout.js';
import type { Identity } from '../../auth/acl.js';
import type { TokenBucket } from '../../auth/limits.js';
import type { LiveConnections, LiveHandle } from '../../auth/live.js';

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
  private live: LiveHandle | undefined;
  /** Set once a filter overlaps a deny rule (auth/acl.ts `screened`): every push is checked against the rules first. */
  screen: ((topic: string) => boolean) | undefined;
  dropped = 0;
  sent = 0;
  private lastMsg: BusMessage | undefined;
  /** While retained values of a new subscription are being sent, live pushes wait here. */
  private held: Buffer[] | undefined;
  private heldBytes = 0;
  private holding = 0;
  private readonly heldMsgs = new WeakMap<Buffer, BusMessage>();
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

  /**
   * Act as `who` from now on (undefined: nobody, when the socket closes). The
   * connection is filed in the live registry, so a revocation of those
   * credentials closes it with 4003; `mark` is the registry's mark taken before
   * the credentials were checked (auth/live.ts).
   */
  become(who: Identity | undefined, live: LiveConnections, mark?: number): void {
    this.live?.unregister();
    this.live = undefined;
    this.identity = who;
    if (!who || this.closed || this.ws.readyState !== 1) return; // closed while its credentials were checked
    this.live = live.register('ws', who, () => this.close(CloseCodes.REVOKED.code, 'credentials revoked or expired'), mark);
    if (!this.live) this.close(CloseCodes.TRY_AGAIN_LATER.code, 'hub busy');
  }

  /** Lingering filters are charged to the identity, or to the address when anonymous (fanout.ts). */
  get owner(): string {
    const who = this.identity;
    return who && who.kind !== 'anonymous' ? `${who.kind}:${who.id}` : `addr:${this.remote}`;
  }

  get maxSubscriptions(): number {
    return this.limits.maxSubscriptions;
  }

  push(frame: Buffer, msg: BusMessage): void {
    // The bus hands one publish to each matching filter in turn with the same object (bus contract item 2).
    if (msg === this.lastMsg) return;
    this.lastMsg = msg;
    if (this.screen && !this.screen(msg.topic)) return;
    if (this.held) this.holdFrame(frame, msg);
    else this.write(frame);
  }

  private holdFrame(frame: Buffer, msg: BusMessage): void {
    const held = this.held!;
    held.push(frame);
    this.heldMsgs.set(frame, msg);
    this.heldBytes += frame.length;
    while (this.heldBytes > this.limits.softLimitBytes && held.length > 1) {
      this.heldBytes -= held.shift()!.length; // heldMsgs is weak: a dropped frame's entry goes with it
      this.dropped++;
    }
  }

  hold(): void {
    this.holding++;
    this.held ??= [];
  }

  /** Live frames held meanwhile go out now, except those whose message `skip` says the client already has. */
  release(skip?: (msg: BusMessage) => boolean): void {
    if (--this.holding > 0 || !this.held) return;
    const frames = this.held;
    this.held = undefined;
    this.heldBytes = 0;
    for (const f of frames) {
      const m = this.heldMsgs.get(f);
      if (skip && m && skip(m)) continue;
      this.write(f);
    }
  }

  /**
   * Frames for this session only, outside the shared fan-out, in order and with
   * flow control (see above); `frameOf` builds each one just before it is sent.
   * Resolves with the number sent: fewer than `items` when the connection closed.
   */
  async replay<T>(items: Iterable<T>, frameOf: (item: T) => Buffer): Promise<number> {
    let sent = 0;
    let slice = 0;
    for (const it of items) {
      if (this.closed || this.ws.readyState !== 1) break;
      if (this.queue?.length || this.ws.bufferedAmount > this.limits.softLimitBytes) {
        if (!(await this.drained())) break;
        slice = 0;
      } else if (slice >= REPLAY_SLICE_BYTES) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        slice = 0;
        if (this.closed || this.ws.readyState !== 1) break;
      }
      const f = frameOf(it);
      this.sent++;
      corkForThisTurn(this.raw, f.length);
      this.raw.write(f);
      slice += f.length;
      sent++;
    }
    return sent;
  }

  /** Wait until the socket has drained below the soft limit; false (and closed, 4008) when it stalls past the timeout. */
  private async drained(): Promise<boolean> {
    const since = Date.now();
    while (this.queue?.length || this.ws.bufferedAmount > this.limits.softLimitBytes) {
      if (this.closed || this.ws.readyState !== 1) return false;
      if (this.ws.bufferedAmount > this.limits.hardLimitBytes || Date.now() - since > this.limits.stallTimeoutMs) {
        this.kick();
        return false;
      }
      await new Promise<void>((resolve) => setTimeout(resolve, 10));
    }
    return !this.closed && this.ws.readyState === 1;
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
/** A replay yields to the event loop after this many bytes written in one turn. */
const REPLAY_SLICE_BYTES = 256 * 1024;
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
