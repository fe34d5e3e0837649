/**
 * A byte-level guard in front of the broker: follows each MQTT packet's fixed
 * header (type byte + Remaining Length, MQTT 3.1.1 §2.2.3) in the bytes read and
 * cuts the connection before a packet larger than `maxBytes` is buffered. Aedes
 * has no packet size limit of its own; without this a client could make the hub
 * hold up to 256 MB per connection.
 *
 * It sits on the stream's `read()` (which Aedes calls on 'readable'), so it adds
 * no stream stage and no copy on the hot path.
 */
import type { Duplex } from 'node:stream';

export class MqttPacketGuard {
  /** 0: expecting a type byte; 1..4: reading Remaining Length; then skipping the body. */
  private state = 0;
  private length = 0;
  private multiplier = 1;
  private remaining = 0;

  constructor(readonly maxBytes: number) {}

  /** Account for these bytes; false when a packet is too large or malformed in its length. */
  feed(chunk: Buffer): boolean {
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
      if (this.length > this.maxBytes) return false;
      if (byte & 0x80) {
        if (++this.state > 4) return false; // [MQTT-2.2.3] at most four length bytes
        continue;
      }
      this.state = 0;
      this.remaining = this.length;
    }
    return true;
  }
}

/** Wrap `stream.read` so every chunk the broker reads passes the guard; on a violation the stream is destroyed. */
export function guardReads<S extends Duplex>(stream: S, maxBytes: number, onReject?: () => void): S {
  const guard = new MqttPacketGuard(maxBytes);
  const read = stream.read.bind(stream);
  stream.read = (size?: number) => {
    const chunk = read(size) as Buffer | null;
    if (chunk && !guard.feed(chunk)) {
      onReject?.();
      stream.destroy(new Error(`MQTT packet larger than ${maxBytes} bytes`));
      return null;
    }
    return chunk;
  };
  return stream;
}
