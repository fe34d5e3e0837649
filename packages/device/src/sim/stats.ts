/** Fleet counters → a rate over the last few seconds, and a one-line summary. */
import type { Counters } from './device.js';

export interface FleetStats { devices: number; connected: number; sent: number; errors: number; msgsPerSec: number }

const WINDOW_MS = 5000;

/** Samples `sent` once a second (an unref'd timer) and reports the rate over the last ≤ 5 s. */
export class RateMeter {
  #samples: { t: number; sent: number }[] = [];
  #timer: NodeJS.Timeout;
  readonly #counters: Counters;

  constructor(counters: Counters) {
    this.#counters = counters;
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), 1000);
    this.#timer.unref();
  }

  #sample(): void {
    const now = Date.now();
    this.#samples.push({ t: now, sent: this.#counters.sent });
    while (this.#samples.length > 2 && now - this.#samples[1]!.t >= WINDOW_MS) this.#samples.shift();
  }

  rate(): number {
    const first = this.#samples[0]!;
    const dt = (Date.now() - first.t) / 1000;
    return dt > 0 ? (this.#counters.sent - first.sent) / dt : 0;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

const n = new Intl.NumberFormat('en-US');

export function formatFleetStats(s: FleetStats): string {
  return `devices ${n.format(s.devices)} · connected ${n.format(s.connected)} · sent ${n.format(s.sent)} · ${n.format(Math.round(s.msgsPerSec))} msg/s · errors ${n.format(s.errors)}`;
}
