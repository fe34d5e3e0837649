/**
 * Time as a dependency. The driver waits for integration windows, the emulated
 * chip completes conversions, the light model follows the sun: all of them ask a
 * Clock instead of `Date.now()`/`setTimeout`, so tests run a day of sensor time in
 * milliseconds and get the same answer every run.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch (may be virtual). */
  now(): number;
  /** Resolves once `now()` has advanced by at least `ms`. */
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

/**
 * A clock that only moves when told to. `sleep` advances it immediately (the
 * sleeper is the only actor in driver tests), so an 800 ms integration costs no
 * wall time. Not for code where several sleepers must interleave in time order.
 */
export class VirtualClock implements Clock {
  #now: number;
  /** Total virtual time spent in sleep(): lets tests assert how long a read would take on hardware. */
  slept = 0;

  constructor(start = Date.UTC(2026, 5, 21, 12, 0, 0)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  advance(ms: number): void {
    if (ms > 0) this.#now += ms;
  }

  set(ms: number): void {
    this.#now = ms;
  }

  async sleep(ms: number): Promise<void> {
    if (ms > 0) {
      this.#now += ms;
      this.slept += ms;
    }
    await Promise.resolve();
  }
}
