/**
 * Min and max of the readings in a sliding time window, amortised O(1) per
 * reading (monotonic deques), for rate-of-change rules. Readings arrive in time
 * order. At most `cap` readings are kept per deque: past that the oldest is
 * dropped (the window is then shorter than configured for that series).
 */
class Deque {
  ts: number[] = [];
  v: number[] = [];
  head = 0;
  get length() {
    return this.ts.length - this.head;
  }
  compact() {
    if (this.head > 1024 && this.head * 2 > this.ts.length) {
      this.ts = this.ts.slice(this.head);
      this.v = this.v.slice(this.head);
      this.head = 0;
    }
  }
}

export class MonoWindow {
  private readonly lo = new Deque();
  private readonly hi = new Deque();
  dropped = 0;

  constructor(private readonly cap: number) {}

  /** Add a reading and forget those before `from`. */
  push(ts: number, v: number, from: number): void {
    this.add(this.lo, ts, v, (last) => last >= v);
    this.add(this.hi, ts, v, (last) => last <= v);
    for (const d of [this.lo, this.hi]) {
      while (d.length > 1 && d.ts[d.head]! < from) d.head++;
      d.compact();
    }
  }

  min(): number {
    return this.lo.v[this.lo.head]!;
  }

  max(): number {
    return this.hi.v[this.hi.head]!;
  }

  private add(d: Deque, ts: number, v: number, dominated: (last: number) => boolean): void {
    while (d.length > 0 && dominated(d.v[d.v.length - 1]!)) {
      d.ts.pop();
      d.v.pop();
    }
    d.ts.push(ts);
    d.v.push(v);
    if (d.length > this.cap) {
      d.head++;
      this.dropped++;
    }
  }
}
