/** PUBCOMP: QoS 2 delivery complete; frees the packet id and a Receive Maximum slot. */
import type { IPubcompPacket } from 'mqtt-packet';
import type { Connection } from '../connection.js';

export function handlePubcomp(c: Connection, p: IPubcompPacket): void {
  const s = c.session!;
  const o = s.inflightOut.get(p.messageId!);
  if (!o || o.qos !== 2) return;
  s.acked(o.pid);
  if (s.queue.length > 0) c.engine.pump(s);
}
