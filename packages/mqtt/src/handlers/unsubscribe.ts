/**
 * UNSUBSCRIBE: removes each filter (exact string match, [MQTT-3.10.4-1]); UNSUBACK
 * with one reason per filter in order (v5: 0x00 or 0x11 No subscription existed;
 * 3.1.1 has none) [MQTT-3.10.4-4/5]. Messages in flight for it still complete.
 */
import type { IUnsubscribePacket } from 'mqtt-packet';
import type { Connection } from '../connection.js';
import { RC } from '../reasons.js';

export function handleUnsubscribe(c: Connection, p: IUnsubscribePacket): void {
  const s = c.session!;
  const codes = p.unsubscriptions.map((key) => (c.engine.unsubscribe(s, key) ? RC.SUCCESS : RC.NO_SUBSCRIPTION_EXISTED));
  if (c.version === 5) c.send({ cmd: 'unsuback', messageId: p.messageId!, granted: codes });
  else c.send({ cmd: 'unsuback', messageId: p.messageId!, granted: [] });
}
