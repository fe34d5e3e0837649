/**
 * Latency histogram with ~1% relative resolution and constant memory, so a
 * subscriber can record every message (p99.9 needs all of them) at a few
 * nanoseconds each, and workers can merge theirs by adding counts.
 *
 * Bucket i holds latencies v (µs) with floor(ln(1 + v) * SCALE) = i.
 */
const SCALE = 100;
const BUCKETS = 2400; // ln(1 + v) < 24: up to ~26,000 s

export class Hist {
  readonly counts = new Float64Array(BUCKETS);
  n = 0;

  recordUs(us: number): void {
    const i = us <= 0 ? 0 : Math.min(BUCKETS - 1, Math.floor(Math.log1p(us) * SCALE));
    this.counts[i]!++;
    this.n++;
  }

  reset(): void {
    this.counts.fill(0);
    this.n = 0;
  }

  /** Sparse form for IPC: [bucket, count] pairs. */
  toJSON(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i]) out.push([i, this.counts[i]!]);
    return out;
  }

  add(sparse: [number, number][]): void {
    for (const [i, c] of sparse) {
      this.counts[i]! += c;
      this.n += c;
    }
  }

  /** Percentile in ms (bucket midpoint), or NaN when empty. */
  percentileMs(p: number): number {
    if (this.n === 0) return NaN;
    const want = Math.ceil((p / 100) * this.n);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= want) return Math.expm1((i + 0.5) / SCALE) / 1000;
    }
    return NaN;
  }
}
