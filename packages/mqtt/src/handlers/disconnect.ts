/**
 * DISCONNECT from the client. 0x00 discards the will [MQTT-3.1.2-10] [MQTT-3.14.4-3];
 * 0x04 (Disconnect with Will Message) keeps it. v5 may change the Session Expiry
 * Interval, except from 0 at CONNECT to non-zero, a protocol error [MQTT-3.14.2-2].
 */
import type { IDisconnectPacket } from 'mqtt-packet';
import type { Connection } from '../connection.js';
import { RC } from '../reasons.js';
import { protocolError } from './dispatch.js';

export function handleDisconnect(c: Connection, p: IDisconnectPacket): void {
  const s = c.session!;
  if (c.version === 5) {
    const sei = p.properties?.sessionExpiryInterval;
    if (sei !== undefined) {
      if (s.connectExpirySec === 0 && sei > 0) return protocolError(c, 'session expiry set on DISCONNECT after 0 at CONNECT');
      const was = s.persistent;
      s.expirySec = Math.min(sei, c.engine.limits.maxSessionExpirySec);
      if (!was && s.persistent) s.persistAll();
      else if (s.stored) c.engine.store.putSession({ clientId: s.clientId, protocolVersion: s.protocolVersion, expirySec: s.expirySec, owner: s.owner });
    }
    c.sendWill = p.reasonCode === RC.DISCONNECT_WITH_WILL;
  } else c.sendWill = false;
  c.terminate(undefined, 'disconnect');
}
