/**
 * The framer: splits a byte stream into whole MQTT packets by reading only the
 * fixed header (type byte + Remaining Length, MQTT 5.0 §2.1.4). A packet over the
 * maximum size is refused as soon as its length is known, before its body is
 * buffered, so a peer cannot make us hold a 256 MiB packet. Whole packets go to
 * mqtt-packet's parser one at a time; a packet inside one chunk is passed as a
 * view of it (no copy).
 */
export interface FramerSink {
  packet(buf: Buffer): void;
  /** 'too-large': over maxBytes (v5 0x95); 'malformed': Remaining Length over 4 bytes (0x81) */
  refuse(why: 'too-large' | 'malformed'): void;
}

export class Framer {
  /** a fixed header split across chunks (rare: allocated on first need, not per connection) */
  private head: Buffer | null = null;
  private headLen = 0;
  /** body being collected across chunks */
  private body: Buffer | null = null;
  private filled = 0;
  private dead = false;

  constructor(public maxBytes: number, private readonly sink: FramerSink) {}

  push(chunk: Buffer): void {
    let off = 0;
    const n = chunk.length;
    while (off < n && !this.dead) {
      if (this.body !== null) {
        const take = Math.min(this.body.length - this.filled, n - off);
        chunk.copy(this.body, this.filled, off, off + take);
        this.filled += take;
        off += take;
        if (this.filled === this.body.length) { const b = this.body; this.body = null; this.sink.packet(b); }
        continue;
      }
      // fast path: the whole fixed header is in this chunk and no partial header is carried
      if (this.headLen === 0) {
        let i = off + 1, mult = 1, rem = 0, ok = false;
        for (let k = 0; k < 4 && i < n; k++, i++) {
          const b = chunk[i]!;
          rem += (b & 0x7f) * mult;
          mult *= 128;
          if ((b & 0x80) === 0) { ok = true; i++; break; }
          if (k === 3) return this.fail('malformed'); // [MQTT-1.5.5-1] at most 4 bytes
        }
        if (ok) {
          const total = i - off + rem;
          if (total > this.maxBytes) return this.fail('too-large');
          if (n - off >= total) { this.sink.packet(chunk.subarray(off, off + total)); off += total; continue; }
          this.body = Buffer.allocUnsafe(total);
          chunk.copy(this.body, 0, off, n);
          this.filled = n - off;
          off = n;
          continue;
        }
      }
      // slow path: collect header bytes one at a time across chunks
      const head = (this.head ??= Buffer.alloc(5));
      head[this.headLen++] = chunk[off++]!;
      if (this.headLen < 2 || (head[this.headLen - 1]! & 0x80) !== 0) {
        if (this.headLen === 5) return this.fail('malformed');
        continue;
      }
      let rem = 0, mult = 1;
      for (let k = 1; k < this.headLen; k++) { rem += (head[k]! & 0x7f) * mult; mult *= 128; }
      const total = this.headLen + rem;
      if (total > this.maxBytes) return this.fail('too-large');
      const body = Buffer.allocUnsafe(total);
      head.copy(body, 0, 0, this.headLen);
      this.filled = this.headLen;
      this.headLen = 0;
      if (this.filled === total) { this.sink.packet(body); continue; }
      this.body = body;
    }
  }

  private fail(why: 'too-large' | 'malformed'): void {
    this.dead = true;
    this.body = null;
    this.sink.refuse(why);
  }
}
