/**
 * Security hooks of the embedded broker, for MQTT over TCP, TLS and /mqtt alike.
 *
 * CONNECT: username `token` + password = an API token; otherwise username = a
 * device id (or a user name) and password = its secret; a TLS client certificate
 * signed by --tls-ca names the device by its CN; no username = anonymous, if the
 * configuration allows it. Refusals are CONNACK 4 (bad credentials) or 5; a will
 * over the topic cap or outside the identity's rules is 5; a client id the
 * identity may not use (auth/mqtt-policy.ts) is 2 [MQTT-3.1.3-9].
 *
 * PUBLISH: MQTT 3.1.1 has no way to refuse one; [MQTT-3.3.5-2] lets the server
 * acknowledge it and drop it, which keeps the connection usable: refused and
 * rate-limited publishes are acknowledged, dropped, logged and counted.
 * Topics over MAX_TOPIC_BYTES / MAX_TOPIC_LEVELS are refused the same way, and
 * retained messages over the RetainedBudget. SUBSCRIBE: refused filters (rules,
 * cap) get SUBACK 0x80 [MQTT-3.9.3-2]; the others proceed.
 * DELIVERY: a client whose filter overlaps a deny rule, or that resumed a stored
 * session, has every message re-checked against the rules before it is sent
 * (queued ones included); `$` topics always are.
 */
import type { TLSSocket } from 'node:tls';
import type { IncomingMessage } from 'node:http';
import type { Aedes, AuthenticateError, Client, PublishPacket } from 'aedes';
import { isDeviceId } from '@fieldlink/protocol';
import type { Logger } from '../log.js';
import type { Identity, Security } from '../auth/index.js';
import type { Credentials } from '../auth/authenticator.js';
import type { TokenBucket } from '../auth/limits.js';
import { ownerKey, publishTopicRefusal, subscribeFilterRefusal, type SessionOwners } from '../auth/mqtt-policy.js';
import { RetainedLimitError, ownerOfTopic, type RetainedBudget } from '../auth/retained-budget.js';

interface Entry {
  who: Identity;
  bucket: TokenBucket | undefined;
  /** Re-check each delivery against the rules (a screened filter, or a resumed session). */
  screen: boolean;
}
const identities = new WeakMap<Client, Entry>();
const DROP = Symbol('fieldlink.drop');

export interface MqttSecurityOptions {
  tlsClientAuth: string;
  owners: SessionOwners;
  retained: RetainedBudget;
  /** Is this client id a registered device's id (reserved for that device)? */
  isRegisteredDevice(id: string): Promise<boolean>;
}

/** The client's address and whether it came through a proxy: /mqtt has the upgrade request (auth/peer.ts), TCP and TLS their socket. */
function peerOf(client: Client, sec: Security): { address: string; proxied: boolean } {
  const c = client as unknown as { req?: IncomingMessage; conn?: { remoteAddress?: string } };
  return c.req?.socket ? sec.peer(c.req) : { address: c.conn?.remoteAddress ?? '?', proxied: false };
}

function certCommonName(client: Client, mode: string): string | undefined {
  if (mode === 'off') return undefined;
  const sock = (client as unknown as { conn?: TLSSocket }).conn;
  if (!sock || typeof sock.getPeerCertificate !== 'function' || !sock.authorized) return undefined;
  const cn = sock.getPeerCertificate()?.subject?.CN;
  return typeof cn === 'string' ? cn : undefined;
}

export function identityOf(client: Client): Identity | undefined {
  return identities.get(client)?.who;
}

/**
 * File an authenticated client in the live registry (auth/live.ts), so a
 * revocation of its credentials disconnects it; it leaves the registry when
 * its stream closes. False: the registry is full, or the client is already gone.
 */
function registerLive(client: Client, who: Identity, sec: Security, mark?: number): boolean {
  const conn = (client as unknown as { conn?: { destroyed?: boolean; once(ev: 'close', fn: () => void): void } }).conn;
  if (!conn || conn.destroyed) return false;
  const handle = sec.live.register('mqtt', who, () => client.close(), mark);
  if (!handle) return false;
  conn.once('close', () => handle.unregister());
  return true;
}

export function installMqttSecurity(broker: Aedes, sec: Security, _log: Logger, opts: MqttSecurityOptions): void {
  const { owners, retained } = opts;
  // Repeated refusals are logged as summaries (log-summary.ts): the first of each kind at once, then counted lines.
  const refusals = { note: (kind: string, fields: Record<string, unknown>) => sec.logs.warn(`mqtt:${kind}`, { ...fields, kind }, 'mqtt refused') };
  const refuse = (done: (e: AuthenticateError | null, ok: boolean) => void, returnCode: number, message: string) =>
    done(Object.assign(new Error(message), { returnCode }) as AuthenticateError, false);

  /** Credentials are good: check the will and the client id, then take the session. */
  const admit = (client: Client, who: Identity, remote: string, done: (e: AuthenticateError | null, ok: boolean) => void, mark?: number) => {
    const will = (client as unknown as { _will?: { topic: string } | null })._will;
    if (will) {
      const why = publishTopicRefusal(will.topic);
      if (why) {
        sec.countError('mqtt', 'INVALID_TOPIC');
        refusals.note(`will_${why}`, { door: 'mqtt', remote, clientId: client.id, who: ownerKey(who), bytes: Buffer.byteLength(will.topic) });
        return refuse(done, 5, `will topic refused: ${why}`);
      }
      if (!sec.allow(who, 'publish', will.topic, 'mqtt')) return refuse(done, 5, 'will topic not allowed');
    }
    const reserved = who.kind !== 'device' && isDeviceId(client.id) ? opts.isRegisteredDevice(client.id) : Promise.resolve(false);
    reserved.then((isReserved) => {
      const conn = (client as unknown as { conn: { destroyed?: boolean; once(e: 'close', f: () => void): void } }).conn;
      if (client.closed || conn.destroyed) return refuse(done, 3, 'connection closed');
      // check and claim in one synchronous step: no other CONNECT can slip in between
      const why = owners.claim(who, client.id, client.clean, isReserved, client);
      if (why) {
        refusals.note(`client_id_${why}`, { door: 'mqtt', remote, clientId: client.id, who: ownerKey(who) });
        return refuse(done, why === 'too_many_sessions' ? 3 : 2, `client id refused: ${why}`);
      }
      conn.once('close', () => owners.release(client.id, client));
      // CONNACK 3: server unavailable [MQTT-3.2.2-5]; the registry of live connections is full.
      if (!registerLive(client, who, sec, mark)) return refuse(done, 3, 'hub busy');
      identities.set(client, { who, bucket: sec.publishBucket(), screen: !client.clean });
      done(null, true);
    }, (e: unknown) => refuse(done, 3, (e as Error).message));
  };

  broker.authenticate = (client, username, password, done) => {
    const { address: remote, proxied } = peerOf(client, sec);
    const cn = certCommonName(client, opts.tlsClientAuth);
    if (cn) return admit(client, { kind: 'device', id: cn, role: 'device', credential: 'cert' }, remote, done);
    const secret = password ? password.toString('utf8') : undefined;
    const creds: Credentials = username === 'token' && secret ? { token: secret } : username && secret !== undefined ? { login: { name: username, secret } } : {};
    const mark = sec.live.mark();
    sec.authenticator.authenticate(creds, remote, proxied).then((r) => {
      if (r.ok) return admit(client, r.identity, remote, done, mark);
      sec.authFailures.record('mqtt', remote, r.code, { clientId: client.id });
      // CONNACK 4: bad user name or password; 5: not authorized [MQTT-3.2.2-5]. (const enum values, not importable under isolatedModules)
      refuse(done, r.code === 'BAD_CREDENTIALS' ? 4 : 5, r.message);
    }, (e: unknown) => refuse(done, 3, (e as Error).message));
  };

  broker.authorizePublish = (client, packet, done) => {
    if (!client) return done(null); // a will published for a client that is gone: it was checked at CONNECT
    const bad = publishTopicRefusal(packet.topic);
    if (bad === 'reserved') return done(new Error('$ topics are reserved for the hub'));
    const entry = identities.get(client);
    const drop = () => ((packet as PublishPacket & { [DROP]?: boolean })[DROP] = true);
    // The rate first: a refused publish costs a token like any other, so refusals cannot be flooded past --publish-rate.
    if (entry?.bucket && !entry.bucket.take()) {
      sec.rateLimited++;
      drop();
      return done(null);
    }
    if (bad) {
      sec.countError('mqtt', 'INVALID_TOPIC');
      refusals.note(`topic_${bad}`, { door: 'mqtt', clientId: client.id, who: entry && ownerKey(entry.who), bytes: Buffer.byteLength(packet.topic) });
      drop();
      return done(null);
    }
    if (!entry || !sec.allow(entry.who, 'publish', packet.topic, 'mqtt')) drop();
    else if (sec.shapes.check('mqtt', packet.topic, packet.payload, entry.who)) drop();
    done(null);
  };

  broker.authorizeSubscribe = (client, sub, done) => {
    const entry = identities.get(client);
    if (!entry) return done(null, null);
    const bad = subscribeFilterRefusal(sub.topic);
    if (bad) {
      sec.countError('mqtt', 'INVALID_FILTER');
      refusals.note(`filter_${bad}`, { door: 'mqtt', clientId: client.id, who: ownerKey(entry.who), bytes: Buffer.byteLength(sub.topic) });
      return done(null, null);
    }
    if (!sec.allow(entry.who, 'subscribe', sub.topic, 'mqtt')) return done(null, null);
    if (sec.acl.subscribeScope(entry.who, sub.topic) === 'screened') entry.screen = true;
    done(null, sub);
  };

  // Live, retained and queued deliveries all pass here (Aedes: deliver0/deliverQoS and emptyQueue).
  broker.authorizeForward = (client, packet) => {
    const entry = identities.get(client);
    if (!entry) return null;
    if ((entry.screen || packet.topic.charCodeAt(0) === 36) && !sec.acl.can(entry.who, 'subscribe', packet.topic)) {
      sec.denied['mqtt:deliver'] = (sec.denied['mqtt:deliver'] ?? 0) + 1;
      return null;
    }
    return packet;
  };

  // Acknowledged-but-refused publishes stop here, before any routing or retained store; so do retained messages over the budget.
  const publish = broker.publish.bind(broker);
  (broker as { publish: typeof broker.publish }).publish = ((packet: PublishPacket & { [DROP]?: boolean }, client: unknown, done?: (err?: Error) => void) => {
    const cb = typeof client === 'function' ? (client as (err?: Error) => void) : done;
    if (packet[DROP]) return void cb?.();
    if (packet.retain && packet.topic.charCodeAt(0) !== 36) {
      const from = typeof client === 'object' && client ? identities.get(client as Client) : undefined;
      const owner = from ? ownerKey(from.who) : ownerOfTopic(packet.topic);
      const why = retained.admit(owner, packet.topic, packet.payload.length);
      if (why) {
        refusals.note(`retained_${why}`, { door: from ? 'mqtt' : 'bus', owner, topic: packet.topic.slice(0, 200), held: retained.held(owner) });
        // MQTT: acknowledged and dropped [MQTT-3.3.5-2]; bus publishers (WebSocket doors, services) get the error
        return void cb?.(from ? undefined : new RetainedLimitError(why));
      }
    }
    return (publish as (p: PublishPacket, c: unknown, d?: unknown) => void)(packet, client, done);
  }) as typeof broker.publish;
}
