/**
 * AUTH after CONNECT (v5 re-authentication, §4.12). An AUTH when CONNECT carried no
 * Authentication Method is a protocol error (DISCONNECT 0x82; 0x8C is not a valid
 * DISCONNECT reason), as is a change of method [MQTT-4.12.1-1]. Without an auth hook
 * no connection has a method (CONNECT with one gets CONNACK 0x8C), so every AUTH is 0x82.
 */
import type { IAuthPacket } from 'mqtt-packet';
import { State, type Connection } from '../connection.js';
import { RC } from '../reasons.js';
import { protocolError } from './dispatch.js';

export async function handleAuth(c: Connection, p: IAuthPacket): Promise<void> {
  const auth = c.engine.hooks.auth;
  const method = p.properties?.authenticationMethod;
  if (!auth || c.authMethod === undefined || method !== c.authMethod) return protocolError(c, 'AUTH without the CONNECT authentication method');
  let r: { reasonCode: number; data?: Buffer };
  try { r = await auth(c.ctx!, method, p.properties?.authenticationData); } catch { r = { reasonCode: RC.UNSPECIFIED }; }
  if (c.state !== State.Connected) return;
  if (r.reasonCode >= 0x80) return protocolError(c, 'authentication failed', r.reasonCode);
  c.send({ cmd: 'auth', reasonCode: r.reasonCode === RC.CONTINUE_AUTHENTICATION ? r.reasonCode : RC.SUCCESS, properties: { authenticationMethod: method, ...(r.data ? { authenticationData: r.data } : {}) } });
}
