/**
 * PUBREC: QoS 2 step 2. Success: PUBREL with the same id [MQTT-4.3.3-4]; a v5 reason
 * ≥ 0x80 ends the exchange (the id is freed, no PUBREL) [MQTT-4.3.3-?]; an unknown
 * id is answered PUBREL 0x92.
 */
import type { IPubrecPacket } from 'mqtt-packet';
import type { Connection } from '../connection.js';
import { RC } from '../reasons.js';

export function handlePubrec(c: Connection, p: IPubrecPacket): void {
  const s = c.session!;
  const pid = p.messageId!;
  const o = s.inflightOut.get(pid);
  if (!o || o.qos !== 2) {
    c.send(c.version === 5 ? { cmd: 'pubrel', messageId: pid, reasonCode: RC.PACKET_ID_NOT_FOUND } : { cmd: 'pubrel', messageId: pid });
    return;
  }
  if (c.version === 5 && (p.reasonCode ?? 0) >= 0x80) {
    s.acked(pid);
    if (s.queue.length > 0) c.engine.pump(s);
    return;
  }
  if (o.state !== 'pubrel') s.released(o);
  c.send({ cmd: 'pubrel', messageId: pid });
}
