/**
 * A bounded FIFO of readings waiting for the hub's acknowledgement, in memory
 * or on disk. Contract:
 *  - entries keep their original timestamp and a sequence number, and leave in
 *    order of arrival (oldest first) only through remove(seq), i.e. on an ack;
 *  - at most `max` entries: when full, the oldest is dropped (and counted), so a
 *    week-long outage costs the oldest data, never the node's memory;
 *  - with `dir`, every append is written as one JSON line to `dir/buffer.jsonl`
 *    before append() resolves, and removals are applied by rewriting the file
 *    (write to a temp file, then rename: atomic on POSIX) at most every
 *    `compactMs`. After a crash the file may still hold entries acked since the
 *    last rewrite; they are sent again (at-least-once, as MQTT QoS 1 is).
 *    A torn last line (crash mid-append) is ignored on load.
 */
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface BufferedReading { seq: number; ts: number; data: Record<string, number> }

export interface TelemetryBufferOptions {
  dir?: string;
  /** Maximum entries kept; default 10,000. */
  max?: number;
  /** Delay before rewriting the file after removals; default 500 ms. */
  compactMs?: number;
}

export class TelemetryBuffer {
  readonly file: string | undefined;
  readonly max: number;
  /** Entries dropped because the buffer was full. */
  dropped = 0;
  #entries: BufferedReading[] = [];
  #nextSeq = 1;
  #compactMs: number;
  #compactTimer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();

  private constructor(opts: TelemetryBufferOptions) {
    this.file = opts.dir === undefined ? undefined : join(opts.dir, 'buffer.jsonl');
    this.max = opts.max ?? 10_000;
    this.#compactMs = opts.compactMs ?? 500;
  }

  static async open(opts: TelemetryBufferOptions = {}): Promise<TelemetryBuffer> {
    const b = new TelemetryBuffer(opts);
    if (opts.dir !== undefined) {
      await mkdir(opts.dir, { recursive: true });
      await b.#load();
    }
    return b;
  }

  get size(): number {
    return this.#entries.length;
  }

  /** Entries oldest first (a snapshot). */
  entries(): readonly BufferedReading[] {
    return this.#entries.slice();
  }

  async append(ts: number, data: Record<string, number>): Promise<BufferedReading> {
    const entry = { seq: this.#nextSeq++, ts, data };
    this.#entries.push(entry);
    if (this.#entries.length > this.max) {
      this.#entries.splice(0, this.#entries.length - this.max);
      this.dropped++;
      this.#scheduleCompact();
    }
    if (this.file) await this.#serial(() => appendFile(this.file!, `${JSON.stringify(entry)}\n`));
    return entry;
  }

  remove(seq: number): void {
    const i = this.#entries.findIndex((e) => e.seq === seq);
    if (i < 0) return;
    this.#entries.splice(i, 1);
    this.#scheduleCompact();
  }

  /** Writes pending removals to disk now. */
  async close(): Promise<void> {
    clearTimeout(this.#compactTimer);
    this.#compactTimer = undefined;
    if (this.file) await this.#serial(() => this.#compact());
    await this.#writing;
  }

  #scheduleCompact(): void {
    if (!this.file || this.#compactTimer) return;
    this.#compactTimer = setTimeout(() => {
      this.#compactTimer = undefined;
      void this.#serial(() => this.#compact());
    }, this.#compactMs);
  }

  async #compact(): Promise<void> {
    const tmp = `${this.file!}.tmp`;
    await writeFile(tmp, this.#entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
    await rename(tmp, this.file!);
  }

  /** File operations run one at a time, in call order, so an append never races a rewrite. */
  #serial(op: () => Promise<void>): Promise<void> {
    const next = this.#writing.then(op, op);
    this.#writing = next.catch(() => undefined);
    return next;
  }

  async #load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.file!, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const e = JSON.parse(line) as BufferedReading;
        if (typeof e.seq === 'number' && typeof e.ts === 'number' && typeof e.data === 'object' && e.data !== null) this.#entries.push(e);
      } catch {
        // a torn line from a crash mid-append: skip it
      }
    }
    this.#entries.sort((a, b) => a.seq - b.seq);
    if (this.#entries.length > this.max) this.#entries.splice(0, this.#entries.length - this.max);
    this.#nextSeq = (this.#entries.at(-1)?.seq ?? 0) + 1;
  }
}
