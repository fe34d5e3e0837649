/**
 * Moves buffered readings to the hub: oldest first, at most `window` in flight,
 * each removed from the buffer only when the hub acknowledges it (MQTT QoS 1
 * PUBACK, or the JSON door's reply to a telemetry frame with an id). A failed
 * send leaves the entry in place to be retried, in order, on the next flush;
 * flushes run after every reading and on every reconnection.
 * No duplicates are sent by this side: an entry in flight is never sent again
 * while its send is pending (with MQTT.js a QoS 1 publish survives a reconnect and
 * settles then; over WebSocket it is rejected at close and becomes sendable again).
 */
import type { DeviceLink } from '../sim/link.js';
import type { TelemetryBuffer } from './buffer.js';

export class Uplink {
  readonly #buffer: TelemetryBuffer;
  readonly #link: DeviceLink;
  readonly #window: number;
  readonly #inFlight = new Set<number>();
  /** Readings the hub acknowledged. */
  acked = 0;
  #flushing = false;
  #again = false;

  constructor(buffer: TelemetryBuffer, link: DeviceLink, window = 32) {
    this.#buffer = buffer;
    this.#link = link;
    this.#window = window;
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Sends what can be sent now; safe to call any time, concurrent calls coalesce. */
  flush(): void {
    if (this.#flushing) { this.#again = true; return; }
    this.#flushing = true;
    try {
      do {
        this.#again = false;
        for (const e of this.#buffer.entries()) {
          if (!this.#link.connected || this.#inFlight.size >= this.#window) break;
          if (this.#inFlight.has(e.seq)) continue;
          this.#inFlight.add(e.seq);
          this.#link.telemetry(e.data, e.ts, { ack: true }).then(
            () => { this.#inFlight.delete(e.seq); this.#buffer.remove(e.seq); this.acked++; this.flush(); },
            () => { this.#inFlight.delete(e.seq); },
          );
        }
      } while (this.#again);
    } finally {
      this.#flushing = false;
    }
  }
}
