/**
 * A minimal observable value and its Preact hook. Writers may set many times per
 * frame (200 telemetry messages a second): listeners are called at most once per
 * animation frame, with the latest value, so views re-render at display rate at most.
 */
import { useEffect, useState } from 'preact/hooks';

export class Store<T> {
  private readonly listeners = new Set<(v: T) => void>();
  private scheduled = false;
  /** Bumped on every change (also in-place ones), so a late subscriber can tell it missed one. */
  version = 0;

  constructor(private value: T) {}

  get(): T {
    return this.value;
  }

  set(v: T): void {
    this.value = v;
    this.changed();
  }

  update(fn: (v: T) => T): void {
    this.set(fn(this.value));
  }

  /** Notify listeners on the next frame (coalesced). Call after mutating the value in place. */
  changed(): void {
    this.version++;
    if (this.scheduled) return;
    this.scheduled = true;
    schedule(() => {
      this.scheduled = false;
      for (const fn of this.listeners) fn(this.value);
    });
  }

  subscribe(fn: (v: T) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

/** rAF where there is a page to paint; a timer otherwise (hidden tabs still converge). */
export function schedule(fn: () => void): void {
  if (typeof document !== 'undefined' && document.visibilityState === 'visible' && typeof requestAnimationFrame === 'function') requestAnimationFrame(fn);
  else setTimeout(fn, 100);
}

/**
 * Re-render when the store notifies. `throttleMs` caps the rate further: a list
 * of 20 devices at 10 Hz is readable (and cheaper) at 4 updates a second.
 *
 * The subscription starts in an effect, after the first paint; a change between
 * the render and then (its notification already delivered to nobody) is caught
 * by comparing versions, else the view would show the old value until some later
 * change: the login form once never appeared when `GET /api/v1/session` answered
 * in that gap.
 */
export function useStore<T>(s: Store<T>, throttleMs = 0): T {
  const [, setTick] = useState(0);
  const rendered = s.version;
  useEffect(() => {
    let last = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bump = () => {
      last = performance.now();
      timer = undefined;
      setTick((n) => n + 1);
    };
    const off = s.subscribe(() => {
      if (throttleMs <= 0) return bump();
      if (timer) return;
      const wait = last + throttleMs - performance.now();
      if (wait <= 0) bump();
      else timer = setTimeout(bump, wait);
    });
    if (s.version !== rendered) bump();
    return () => {
      off();
      clearTimeout(timer);
    };
  }, [s, throttleMs]);
  return s.get();
}

/** The current time, refreshed every `ms` (relative times tick without data). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
