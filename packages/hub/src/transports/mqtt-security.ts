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
import type { Aedes, AuthenticateError, Client, PublishPacket } from 'aedes';
import type { Logger } from '../log.js';
import type { Identity, Security } from '../auth/index.js';
import type { Credentials } from '../auth/authenticator.js';
import type { TokenBucket } from '../auth/limits.js';

const identities = new WeakMap<Client, { who: Identity; bucket: TokenBucket | undefined }>();
const DROP = Symbol('fieldlink.drop');


function remoteOf(client: Client): string {
  const c = client as unknown as { req?: { socket?: { remoteAddress?: string } }; conn?: { remoteAddress?: string } };
  return c.req?.socket?.remoteAddress ?? c.conn?.remoteAddress ?? '?';
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

export function installMqttSecurity(broker: Aedes, sec: Security, log: Logger, tlsClientAuth: string): void {
  broker.authenticate = (client, username, password, done) => {
    const remote = remoteOf(client);
    const cn = certCommonName(client, tlsClientAuth);
    if (cn) {
      identities.set(client, { who: { kind: 'device', id: cn, role: 'device' }, bucket: sec.publishBucket() });
      return done(null, true);
    }
    const secret = password ? password.toString('utf8') : undefined;
    const creds: Credentials = username === 'token' && secret ? { token: secret } : username && secret !== undefined ? { login: { name: username, secret } } : {};
    sec.authenticator.authenticate(creds, remote).then((r) => {
      if (r.ok) {
        identities.set(client, { who: r.identity, bucket: sec.publishBucket() });
        return done(null, true);
      }
      log.warn({ door: 'mqtt', remote, clientId: client.id, code: r.code }, 'authentication failed');
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
