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
  dropped = 0;
  sent = 0;
  private lastMsg: BusMessage | undefined;
  /** While retained values of a new subscription are being sent, live pushes wait here. */
  private held: string[] | undefined;
  private holding = 0;
  private closed = false;
  private readonly queue: string[] = [];
  private queueBytes = 0;
  private stalledSince = 0;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly ws: WebSocket, readonly remote: string, private readonly limits: SessionLimits) {}

  get maxSubscriptions(): number {
    return this.limits.maxSubscriptions;
  }

  push(frame: string, msg: BusMessage): void {
    // The bus hands one publish to each matching filter in turn with the same object (bus contract item 2).
    if (msg === this.lastMsg) return;
    this.lastMsg = msg;
    if (this.held) this.held.push(frame);
    else this.write(frame, true);
  }

  hold(): void {
    this.holding++;
    this.held ??= [];
  }

  release(): void {
    if (--this.holding > 0 || !this.held) return;
    const frames = this.held;
    this.held = undefined;
    for (const f of frames) this.write(f, true);
  }

  /** Retained values sent to this session only, outside the shared fan-out. */
  pushDirect(frame: string): void {
    this.write(frame, true);
  }

  reply(id: string, result: unknown): void {
    this.write(JSON.stringify({ id, ok: true, result }), false);
  }

  fail(id: string | undefined, code: CodeName, message?: string): void {
    const error = errorBody(code, message);
    this.write(JSON.stringify(id === undefined ? { op: 'error', error } : { id, ok: false, error }), false);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.close(code, reason);
  }

  private write(frame: string, droppable: boolean): void {
    if (this.closed || this.ws.readyState !== 1) return;
    if (this.ws.bufferedAmount > this.limits.hardLimitBytes) return this.kick();
    if (!droppable) {
      this.ws.send(frame);
      return;
    }
    if (this.queue.length > 0 || this.ws.bufferedAmount > this.limits.softLimitBytes) return this.enqueue(frame);
    this.sent++;
    this.ws.send(frame);
  }

  private enqueue(frame: string): void {
    if (this.queue.length === 0) this.stalledSince = Date.now();
    this.queue.push(frame);
    this.queueBytes += frame.length;
    while (this.queueBytes > this.limits.softLimitBytes && this.queue.length > 1) {
      this.queueBytes -= this.queue.shift()!.length;
      this.dropped++;
    }
    this.flushTimer ??= setTimeout(() => this.flush(), 20);
  }

  private flush(): void {
    this.flushTimer = undefined;
    if (this.closed || this.ws.readyState !== 1) return;
    while (this.queue.length > 0 && this.ws.bufferedAmount <= this.limits.softLimitBytes) {
      const f = this.queue.shift()!;
      this.queueBytes -= f.length;
      this.sent++;
      this.ws.send(f);
    }
    if (this.queue.length === 0) return;
    if (Date.now() - this.stalledSince > this.limits.stallTimeoutMs) return this.kick();
    this.flushTimer = setTimeout(() => this.flush(), 20);
  }

  private kick(): void {
    clearTimeout(this.flushTimer);
    this.queue.length = 0;
    this.close(CloseCodes.SLOW_CONSUMER.code, 'slow consumer');
    this.ws.terminate();
  }
}
