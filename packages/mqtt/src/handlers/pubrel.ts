/**
 * PUBREL: QoS 2 inbound step 3. The message was routed on PUBLISH (method A); here the
 * packet id is released and PUBCOMP sent [MQTT-4.3.3-11/12]; an unknown id is answered
 * PUBCOMP 0x92 on v5 (3.1.1: PUBCOMP too, the exchange must end).
 */
import type { IPubrelPacket } from 'mqtt-packet';
import type { Connection } from '../connection.js';
import { RC } from '../reasons.js';

export function handlePubrel(c: Connection, p: IPubrelPacket): void {
  const pid = p.messageId!;
  const known = c.session!.deleteInflightIn(pid);
  if (!known && c.version === 5) c.send({ cmd: 'pubcomp', messageId: pid, reasonCode: RC.PACKET_ID_NOT_FOUND });
  else c.send({ cmd: 'pubcomp', messageId: pid });
}
