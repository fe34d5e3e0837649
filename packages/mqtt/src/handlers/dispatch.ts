/**
 * The one switch: every inbound packet goes through here to its handler module.
 * Before CONNECT only CONNECT is accepted [MQTT-3.1.0-1]; a second CONNECT
 * [MQTT-3.1.0-2] and any server-to-client packet type are protocol errors.
 */
import type { Packet } from 'mqtt-packet';
import { State, type Connection } from '../connection.js';
import { RC } from '../reasons.js';
import { handleAuth } from './auth.js';
import { handleConnect } from './connect.js';
import { handleDisconnect } from './disconnect.js';
import { handlePingreq } from './pingreq.js';
import { handlePuback } from './puback.js';
import { handlePubcomp } from './pubcomp.js';
import { handlePublish } from './publish.js';
import { handlePubrec } from './pubrec.js';
import { handlePubrel } from './pubrel.js';
import { handleSubscribe } from './subscribe.js';
import { handleUnsubscribe } from './unsubscribe.js';

export function dispatch(c: Connection, p: Packet): void {
  if (c.state !== State.Connected) {
    if (c.state === State.New && p.cmd === 'connect') { handleConnect(c, p).catch(() => internal(c)); return; }
    // [MQTT-3.1.0-1] the first packet must be CONNECT: close, nothing sent
    c.engine.count('protocol_errors');
    c.terminate(undefined, 'protocol');
    return;
  }
  switch (p.cmd) {
    case 'publish': return handlePublish(c, p);
    case 'puback': return handlePuback(c, p);
    case 'pubrec': return handlePubrec(c, p);
    case 'pubrel': return handlePubrel(c, p);
    case 'pubcomp': return handlePubcomp(c, p);
    case 'subscribe': return handleSubscribe(c, p);
    case 'unsubscribe': return handleUnsubscribe(c, p);
    case 'pingreq': return handlePingreq(c);
    case 'disconnect': return handleDisconnect(c, p);
    case 'auth': { handleAuth(c, p).catch(() => internal(c)); return; }
    case 'connect': return protocolError(c, 'second CONNECT'); // [MQTT-3.1.0-2]
    default: return protocolError(c, `${p.cmd} is a server-to-client packet`);
  }
}

/** an async handler failed after an await: a bug, it costs this connection only */
function internal(c: Connection): void {
  c.engine.count('internal_errors');
  c.terminate(RC.UNSPECIFIED, 'server');
}

export function protocolError(c: Connection, why: string, rc: number = RC.PROTOCOL_ERROR): void {
  c.engine.count('protocol_errors');
  c.terminate(rc, 'protocol', why);
}
