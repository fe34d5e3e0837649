/**
 * Browser fan-out: one bus subscription per distinct filter, shared by every
 * session holding it; each message is serialised once into a push frame and the
 * same string goes to every session (design.md: no per-browser broker client).
 *
 * `seq` comes from one counter per hub run (`epoch`), so it is strictly
 * increasing on every topic. Recent frames stay in a bounded ring so a client that
 * reconnects with `since` gets what it missed, when the hub can prove it has all
 * of it (its filter was subscribed without a break since then).
 *
 * Lingering is bounded (docs/security.md, "Bounds"): a filter nobody holds
 * stays on the bus `lingerMs` for resumes, but at most `maxLingering` such
 * filters in total and `maxLingeringPerOwner` left by one owner (identity, or
 * address when anonymous); past either bound the oldest lingering filter goes
 * first (`lingerEvicted`), so sub/unsub churn cannot pile up bus subscriptions.
 */
import type { Bus, BusMessage, Subscription } from '../../bus/types.js';
import { topicMatches } from '@fieldlink/protocol';
import { encodePush } from './encode.js';

export interface FanoutTarget {
  /** Deliver a push (a complete WebSocket frame); `msg` identifies the publish for de-duplication. */
  push(frame: Buffer, msg: BusMessage): void;
  /** Who the lingering of a filter this target was the last to leave is charged to. */
  readonly owner?: string;
}

interface FilterEntry {
  targets: Set<FanoutTarget>;
  sub?: Subscription;
  ready: Promise<void>;
  /** Seq at which the bus subscription became active: messages after it are all in the ring. */
  sinceSeq: number;
  lingerTimer?: ReturnType<typeof setTimeout>;
  /** Set while lingering: the owner it is charged to. */
  lingerOwner?: string;
}

interface RingItem { seq: number; topic: string; frame: Buffer; msg: BusMessage }

export interface FanoutOptions {
  ringSize: number;
  /** Keep an unused filter's bus subscription this long, so quick reconnects can resume. */
  lingerMs: number;
  /** Lingering filters in total (default 10,000) and per owner (default 200); 0 = no lingering. */
  maxLingering?: number;
  maxLingeringPerOwner?: number;
  /** Called with each live (not retained) message as it gets its seq: resume marks (rebuild.ts). */
  onSeq?: (seq: number, msg: BusMessage) => void;
}

export class Fanout {
  readonly epoch = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  private seq = 0;
  private readonly frames = new WeakMap<BusMessage, Buffer>();
  private readonly filters = new Map<string, FilterEntry>();
  private readonly ring: (RingItem | undefined)[];
  private ringHead = 0;
  /** Lingering filters, oldest first; and per owner, oldest first. */
  private readonly lingerers = new Map<string, FilterEntry>();
  private readonly lingerByOwner = new Map<string, Set<string>>();
  /** Lingering filters dropped before their time by a bound. */
  lingerEvicted = 0;

  constructor(private readonly bus: Bus, private readonly opts: FanoutOptions) {
    this.ring = new Array<RingItem | undefined>(Math.max(1, opts.ringSize));
  }

  get filterCount(): number {
    return this.filters.size;
  }

  get lingering(): number {
    return this.lingerers.size;
  }

  /** Serialise once per publish; assigns the seq. Retained replays get their own frames. */
  frameFor(msg: BusMessage): Buffer {
    let f = this.frames.get(msg);
    if (f === undefined) {
      const seq = ++this.seq;
      f = encodePush(msg, seq);
      this.frames.set(msg, f);
      if (!msg.retained) {
        this.ring[this.ringHead] = { seq, topic: msg.topic, frame: f, msg };
        this.ringHead = (this.ringHead + 1) % this.ring.length;
        this.opts.onSeq?.(seq, msg);
      }
    }
    return f;
  }

  /** Take `n` seqs for frames built outside the fan-out (rebuilt messages); returns the first. */
  reserve(n: number): number {
    const first = this.seq + 1;
    this.seq += n;
    return first;
  }

  async add(target: FanoutTarget, filter: string): Promise<void> {
    let e = this.filters.get(filter);
    if (!e) {
      const entry: FilterEntry = { targets: new Set(), ready: Promise.resolve(), sinceSeq: this.seq };
      entry.ready = this.bus
        .subscribe(filter, (msg) => this.deliver(entry, msg), { retained: false })
        .then((sub) => {
          entry.sub = sub;
          entry.sinceSeq = this.seq;
        });
      this.filters.set(filter, (e = entry));
    }
    this.unlinger(filter, e);
    e.targets.add(target);
    await e.ready;
  }

  remove(target: FanoutTarget, filter: string): void {
    const e = this.filters.get(filter);
    if (!e || !e.targets.delete(target) || e.targets.size > 0) return;
    const max = this.opts.maxLingering ?? 10_000;
    const perOwner = this.opts.maxLingeringPerOwner ?? 200;
    if (this.opts.lingerMs <= 0 || max <= 0 || perOwner <= 0) return void this.drop(filter, e);
    const owner = target.owner ?? '?';
    e.lingerOwner = owner;
    e.lingerTimer = setTimeout(() => void this.drop(filter, e), this.opts.lingerMs);
    e.lingerTimer.unref?.();
    this.lingerers.set(filter, e);
    let mine = this.lingerByOwner.get(owner);
    if (!mine) this.lingerByOwner.set(owner, (mine = new Set()));
    mine.add(filter);
    while (mine.size > perOwner) this.evict(mine.values().next().value!);
    while (this.lingerers.size > max) this.evict(this.lingerers.keys().next().value!);
  }

  private evict(filter: string): void {
    const e = this.lingerers.get(filter);
    if (!e) return;
    this.lingerEvicted++;
    void this.drop(filter, e);
  }

  /** No longer lingering: someone holds it again, or it is dropped. */
  private unlinger(filter: string, e: FilterEntry): void {
    clearTimeout(e.lingerTimer);
    e.lingerTimer = undefined;
    if (e.lingerOwner === undefined) return;
    if (this.lingerers.get(filter) === e) this.lingerers.delete(filter);
    const mine = this.lingerByOwner.get(e.lingerOwner);
    mine?.delete(filter);
    if (mine?.size === 0) this.lingerByOwner.delete(e.lingerOwner);
    e.lingerOwner = undefined;
  }

  /**
   * Frames after `since` on topics matching `filter`, oldest first; undefined when
   * the hub cannot prove it has every one of them (other epoch, ring overrun, or the
   * filter was not subscribed the whole time).
   */
  replay(filter: string, epoch: string, since: number): RingItem[] | undefined {
    if (epoch !== this.epoch || since > this.seq) return undefined;
    const e = this.filters.get(filter);
    if (!e || e.sinceSeq > since) return undefined;
    const items: RingItem[] = [];
    let oldest = Infinity;
    for (let i = 0; i < this.ring.length; i++) {
      const it = this.ring[(this.ringHead + i) % this.ring.length];
      if (!it) continue;
      oldest = Math.min(oldest, it.seq);
      if (it.seq > since && topicMatches(filter, it.topic)) items.push(it);
    }
    if (since < this.seq && oldest > since + 1) return undefined;
    return items;
  }

  async close(): Promise<void> {
    await Promise.all([...this.filters].map(([f, e]) => this.drop(f, e)));
  }

  private deliver(e: FilterEntry, msg: BusMessage): void {
    if (e.targets.size === 0) {
      this.frameFor(msg); // lingering: keep the ring complete for resumes
      return;
    }
    const frame = this.frameFor(msg);
    for (const t of e.targets) t.push(frame, msg);
  }

  private async drop(filter: string, e: FilterEntry): Promise<void> {
    this.unlinger(filter, e);
    if (this.filters.get(filter) !== e) return;
    this.filters.delete(filter);
    await e.ready;
    await e.sub?.unsubscribe();
  }
}
