/**
 * The engine's state per (rule, device), in two levels of maps: a lookup hashes
 * the device string and the rule's name, both long-lived (V8 keeps a string's
 * hash once computed), instead of building a `rule\0device` string per
 * evaluation. The engine looks a series up for every rule a telemetry message
 * meets, so that string cost was its largest item under 1,000 rules
 * (docs/performance.md, "Alerts"). A device's inner map goes when it empties.
 */
export class SeriesMap<S> {
  private readonly byDevice = new Map<string, Map<string, S>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(rule: string, device: string): S | undefined {
    return this.byDevice.get(device)?.get(rule);
  }

  has(rule: string, device: string): boolean {
    return this.get(rule, device) !== undefined;
  }

  set(rule: string, device: string, s: S): void {
    let m = this.byDevice.get(device);
    if (!m) this.byDevice.set(device, (m = new Map()));
    if (!m.has(rule)) this.count++;
    m.set(rule, s);
  }

  delete(rule: string, device: string): boolean {
    const m = this.byDevice.get(device);
    if (!m?.delete(rule)) return false;
    this.count--;
    if (m.size === 0) this.byDevice.delete(device);
    return true;
  }

  /** Every series; deleting while iterating is allowed (Map iteration semantics). */
  *values(): IterableIterator<S> {
    for (const m of this.byDevice.values()) yield* m.values();
  }

  /** The series of one device (a snapshot: callers delete while walking it). */
  ofDevice(device: string): S[] {
    return [...(this.byDevice.get(device)?.values() ?? [])];
  }
}
