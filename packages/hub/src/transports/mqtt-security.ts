/**
 * Security hooks of the embedded broker, for MQTT over TCP, TLS and /mqtt alike.
 *
 * CONNECT: username `token` + password = an API token; otherwise username = a
 * device id (or a user name) and password = its secret; a TLS client certificate
 * signed by --tls-ca names the device by its CN; no username = anonymous, if the
 * configuration allows it. Refusals are CONNACK 4 (bad credentials) or 5.
 *
 * PUBLISH: MQTT 3.1.1 has no way to refuse one; [MQTT-3.3.5-2] lets the server
 * acknowledge it and drop it, which keeps the connection usable: refused and
 * rate-limited publishes are acknowledged, dropped, logged and counted.
 * SUBSCRIBE: refused filters get SUBACK 0x80 [MQTT-3.9.3-2]; the others proceed.
 */
import type { TLSSocket } from 'node:tls';
import type { IncomingMessage } from 'node:http';
import type { Aedes, AuthenticateError, Client, PublishPacket } from 'aedes';
import type { Logger } from '../log.js';
import type { Identity, Security } from '../auth/index.js';
import type { Credentials } from '../auth/authenticator.js';
import type { TokenBucket } from '../auth/limits.js';

const identities = new WeakMap<Client, { who: Identity; bucket: TokenBucket | undefined }>();
const DROP = Symbol('fieldlink.drop');


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

export function installMqttSecurity(broker: Aedes, sec: Security, log: Logger, tlsClientAuth: string): void {
  // CONNACK 3: server unavailable [MQTT-3.2.2-5]; the registry of live connections is full.
  const unavailable = () => Object.assign(new Error('hub busy'), { returnCode: 3 }) as AuthenticateError;
  broker.authenticate = (client, username, password, done) => {
    const { address: remote, proxied } = peerOf(client, sec);
    const cn = certCommonName(client, tlsClientAuth);
    if (cn) {
      const who: Identity = { kind: 'device', id: cn, role: 'device', credential: 'cert' };
      if (!registerLive(client, who, sec)) return done(unavailable(), false);
      identities.set(client, { who, bucket: sec.publishBucket() });
      return done(null, true);
    }
    const secret = password ? password.toString('utf8') : undefined;
    const creds: Credentials = username === 'token' && secret ? { token: secret } : username && secret !== undefined ? { login: { name: username, secret } } : {};
    const mark = sec.live.mark();
    sec.authenticator.authenticate(creds, remote, proxied).then((r) => {
      if (r.ok) {
        if (!registerLive(client, r.identity, sec, mark)) return done(unavailable(), false);
        identities.set(client, { who: r.identity, bucket: sec.publishBucket() });
        return done(null, true);
      }
      sec.authFailures.record('mqtt', remote, r.code, { clientId: client.id });
      // CONNACK 4: bad user name or password; 5: not authorized [MQTT-3.2.2-5]. (const enum values, not importable under isolatedModules)
      done(Object.assign(new Error(r.message), { returnCode: r.code === 'BAD_CREDENTIALS' ? 4 : 5 }) as AuthenticateError, false);
    }, (e: unknown) => done(Object.assign(e as Error, { returnCode: 3 }) as AuthenticateError, false));
  };

  broker.authorizePublish = (client, packet, done) => {
    if (!client) return done(null); // a will published for a client that is gone: it was checked at CONNECT
    if (packet.topic.startsWith('$')) return done(new Error('$ topics are reserved for the hub'));
    const entry = identities.get(client);
    const drop = () => {
      (packet as PublishPacket & { [DROP]?: boolean })[DROP] = true;
      done(null);
    };
    // The rate first: a refused publish costs a token like any other, so refusals cannot be flooded past --publish-rate.
    if (entry?.bucket && !entry.bucket.take()) {
      sec.rateLimited++;
      return drop();
    }
    if (!entry || !sec.allow(entry.who, 'publish', packet.topic, 'mqtt')) return drop();
    if (sec.shapes.check('mqtt', packet.topic, packet.payload, entry.who)) return drop();
    done(null);
  };

  broker.authorizeSubscribe = (client, sub, done) => {
    const who = identities.get(client)?.who;
    done(null, who && sec.allow(who, 'subscribe', sub.topic, 'mqtt') ? sub : null);
  };

  // Acknowledged-but-refused publishes stop here, before any routing or retained store.
  const publish = broker.publish.bind(broker);
  (broker as { publish: typeof broker.publish }).publish = ((packet: PublishPacket & { [DROP]?: boolean }, client: unknown, done?: (err?: Error) => void) => {
    if (packet[DROP]) {
      const cb = typeof client === 'function' ? (client as (err?: Error) => void) : done;
      return void cb?.();
    }
    return (publish as (p: PublishPacket, c: unknown, d?: unknown) => void)(packet, client, done);
  }) as typeof broker.publish;
}
