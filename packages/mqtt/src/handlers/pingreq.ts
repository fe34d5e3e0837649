/** PINGREQ → PINGRESP [MQTT-3.12.4-1]; any packet already reset the keep-alive clock. */
import type { Connection } from '../connection.js';

export function handlePingreq(c: Connection): void {
  c.send({ cmd: 'pingresp' });
}
