/**
 * A device's connection to a hub, whatever the door. The fleet and the node
 * talk to this interface; `links.ts` picks the implementation from the URL
 * (a table, as MQTT.js maps protocols to transports).
 *
 * Contract:
 *  - start() resolves on the first session (birth status and meta sent, commands
 *    subscribed); it rejects if the first attempt fails, so a wrong URL is reported
 *    at once instead of retried forever. After that the link reconnects by itself.
 *  - telemetry() resolves when the hub has acknowledged the message (`ack: true`:
 *    MQTT QoS 1 PUBACK, or the door's `{id, ok:true}` reply) or once it is written
 *    (`ack: false`). It rejects when not connected or the session is lost before
 *    the acknowledgement; the caller decides whether to keep the reading.
 *    Exception, MQTT: a QoS 1 publish in flight when the connection drops stays in
 *    MQTT.js's outgoing store, is resent after reconnect, and resolves then.
 *  - stop({graceful:true}) publishes an offline status then disconnects cleanly;
 *    stop({graceful:false}) destroys the socket so the hub sees an abrupt loss
 *    (MQTT: the last will fires).
 */
import type { DeviceMeta } from '@fieldlink/protocol';

export type CommandHandler = (method: string, params: unknown) => Promise<unknown>;

export interface DeviceLinkOptions {
  url: string;
  deviceId: string;
  meta: DeviceMeta;
  onCommand: CommandHandler;
  /** Called on every (re)connection and loss; `connected` tells which. */
  onState?: (connected: boolean) => void;
  onLog?: (line: string) => void;
  keepaliveSec?: number;
  /** Shared secret for the JSON door's auth frame / MQTT password. */
  secret?: string;
  /** Delay between reconnection attempts; default 1000 ms. */
  reconnectMs?: number;
  /** Give up on the first connection after this long; default 30 s. */
  connectTimeoutMs?: number;
}

export interface DeviceLink {
  readonly connected: boolean;
  start(): Promise<void>;
  telemetry(data: Record<string, number>, ts: number, opts?: { ack?: boolean }): Promise<void>;
  stop(opts?: { graceful?: boolean }): Promise<void>;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as Error & { code?: unknown }).code;
    return typeof code === 'string' && !err.message.includes(code) ? `${code} ${err.message}` : err.message;
  }
  return String(err);
}
