/**
 * A byte-level guard in front of the broker: reads each MQTT packet's fixed
 * header (type byte + Remaining Length, MQTT 3.1.1 §2.2.3) and cuts the
 * connection before buffering a packet larger than `maxBytes`. Aedes has no
 * packet size limit of its own; without this a client could make the hub
 * buffer up to 256 MB per connection. Bytes pass through unchanged.
 */
import { Transform, type TransformCallback } from 'node:stream';

export class MqttPacketLimit extends Transform {
  /** 0: expecting a type byte; 1..4: reading Remaining Length; then skipping the body. */
  private state = 0;
  private length = 0;
  private multiplier = 1;
  private remaining = 0;
  rejected = false;

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - i);
        this.remaining -= n;
        i += n;
        continue;
      }
      const byte = chunk[i++]!;
      if (this.state === 0) {
        this.state = 1;
        this.length = 0;
        this.multiplier = 1;
        continue;
      }
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      if (this.length > this.maxBytes) return this.reject(cb);
      if (byte & 0x80) {
        if (++this.state > 4) return this.reject(cb); // [MQTT-2.2.3] at most four length bytes
        continue;
      }
      this.state = 0;
      this.remaining = this.length;
    }
    cb(null, chunk);
  }

  private reject(cb: TransformCallback): void {
    this.rejected = true;
    cb(new Error(`MQTT packet larger than ${this.maxBytes} bytes`));
  }
}
