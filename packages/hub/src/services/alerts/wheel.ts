/**
 * A timer wheel driven by one interval: entries are bucketed by tick slot and
 * run when their slot comes due, so thousands of deadlines (absence per device,
 * minimum durations, re-notify) cost one timer, not one each. Entries are not
 * cancelled: callers re-check their own state when an entry runs (lazy
 * deletion), and schedule at most one entry per thing they track.
 */
export class TimerWheel {
  private readonly slots = new Map<number, (() => void)[]>();
  private next = 0;
  private size_ = 0;

  constructor(readonly tickMs: number, start: number) {
    this.next = Math.floor(start / tickMs);
  }

  get size(): number {
    return this.size_;
  }

  /** Run `fn` at the first tick at or after `at` (wall-clock ms). */
  schedule(at: number, fn: () => void): void {
    const slot = Math.max(this.next, Math.ceil(at / this.tickMs));
    const list = this.slots.get(slot);
    if (list) list.push(fn);
    else this.slots.set(slot, [fn]);
    this.size_++;
  }

  /** Run every entry whose slot is due at `now`. Entries scheduled meanwhile for a due slot run in this call too. */
  advance(now: number): void {
    const last = Math.floor(now / this.tickMs);
    // Jumps of many slots (a stalled loop) visit only the slots that hold entries.
    if (last - this.next > this.slots.size) {
      for (;;) {
        let min = Infinity;
        for (const s of this.slots.keys()) if (s < min) min = s;
        if (min > last) break;
        this.next = min;
        this.run(min);
      }
      this.next = last + 1;
      return;
    }
    for (; this.next <= last; this.next++) this.run(this.next);
  }

  private run(slot: number): void {
    for (let list = this.slots.get(slot); list; list = this.slots.get(slot)) {
      this.slots.delete(slot);
      this.size_ -= list.length;
      for (const fn of list) fn();
    }
  }
}
