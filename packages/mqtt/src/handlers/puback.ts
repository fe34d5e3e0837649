/** PUBACK: QoS 1 delivery complete; frees a Receive Maximum slot, so queued messages may flow [MQTT-4.9.0-2]. */
import type { IPubackPacket } from 'mqtt-packet';
import type { Connection } from '../connection.js';

export function handlePuback(c: Connection, p: IPubackPacket): void {
  const s = c.session!;
  const o = s.inflightOut.get(p.messageId!);
  if (!o || o.qos !== 1) return; // unknown id: nothing to free (a late duplicate)
  s.acked(o.pid);
  if (s.queue.length > 0) c.engine.pump(s);
}
