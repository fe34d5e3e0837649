/**
 * The hub's Security as hooks of the core MQTT engine (@fieldlink/mqtt), for
 * MQTT over TCP, TLS and /mqtt alike: the same identities, access rules, publish
 * rate and counters as the Aedes hooks (mqtt-security.ts), with MQTT 5's ways of
 * saying no.
 *
 * CONNECT: a TLS client certificate verified against --tls-ca names the device
 * by its CN (unless --tls-client-auth off); username `token` + password = an API
 * token; otherwise username = a device id or user name and password = its secret;
 * no username = anonymous, if the configuration allows it. Refusals: 0x86 bad
 * user name or password, 0x87 not authorized (3.1.1: CONNACK 4 and 5), 0x88
 * server unavailable when the identity store fails (3.1.1: 3).
 *
 * PUBLISH: refused (0x87) by the access rules or `$` topics (reserved for the
 * hub), 0x97 quota exceeded by --publish-rate. MQTT 5 answers PUBACK/PUBREC with
 * the reason and keeps the connection; 3.1.1 has no refusal, so the engine
 * acknowledges and drops [MQTT-3.3.5-2]. Both are counted.
 * SUBSCRIBE: a filter not wholly within a grant is refused (SUBACK 0x87 on 5;
 * 0x80 on 3.1.1 and under --mqtt-profile paho) [MQTT-3.9.3-2]; the others proceed.
 * Delivery of queued messages re-checks the rules as they are now.
 *
 * Seam for the engine-neutral MQTT policy (client-id/session ownership, topic
 * length caps, retained budget: wip/mqttsec): `MqttPolicy`, consulted after the
 * access rules; none by default.
 */
import type { ClientContext, ConnectDecision, ConnectInfo, EngineMessage, Hooks, QoS } from '@fieldlink/mqtt';
import type { Logger } from '../log.js';
import type { Identity, Security } from '../auth/index.js';
import type { Credentials } from '../auth/authenticator.js';
import type { TokenBucket } from '../auth/limits.js';
import type { LiveHandle } from '../auth/live.js';

/** MQTT 5 reason codes the hooks answer (MQTT 5.0 §2.4). */
export const Reason = {
  SUCCESS: 0x00,
  UNSPECIFIED: 0x80,
  BAD_CREDENTIALS: 0x86,
  NOT_AUTHORIZED: 0x87,
  SERVER_UNAVAILABLE: 0x88,
  PAYLOAD_FORMAT_INVALID: 0x99,
  QUOTA_EXCEEDED: 0x97,
} as const;

/** The reason codes these hooks answer, and when (docs/mqtt.md; the engine's own are its SENT_REASONS). */
export const HOOK_REASONS: readonly { code: number; name: string; packets: string; when: string }[] = [
  { code: Reason.BAD_CREDENTIALS, name: 'Bad User Name or Password', packets: 'CONNACK', when: 'unknown user or device, wrong secret, revoked or expired token (3.1.1: return code 4)' },
  { code: Reason.NOT_AUTHORIZED, name: 'Not authorized', packets: 'CONNACK', when: 'no credentials and no anonymous role, or an identity not allowed to connect (3.1.1: 5)' },
  { code: Reason.NOT_AUTHORIZED, name: 'Not authorized', packets: 'PUBACK, PUBREC', when: 'a PUBLISH the access rules refuse, or to a `$` topic (reserved for the hub); the connection stays' },
  { code: Reason.NOT_AUTHORIZED, name: 'Not authorized', packets: 'SUBACK', when: 'a filter not wholly within a grant, or wholly within a deny (0x80 on 3.1.1 and under --mqtt-profile paho)' },
  { code: Reason.SERVER_UNAVAILABLE, name: 'Server unavailable', packets: 'CONNACK', when: 'the identity store failed while checking credentials (3.1.1: 3)' },
  { code: Reason.QUOTA_EXCEEDED, name: 'Quota exceeded', packets: 'PUBACK, PUBREC', when: 'the client publishes faster than --publish-rate, or a retained message over the retained limits; the connection stays' },
  { code: Reason.PAYLOAD_FORMAT_INVALID, name: 'Payload format invalid', packets: 'PUBACK, PUBREC', when: 'a device payload over the shape bounds (--max-payload-depth, --max-payload-keys, --max-meta-bytes); the connection stays' },
  { code: 0x85, name: 'Client Identifier not valid', packets: 'CONNACK', when: 'a device whose client id is not its device id, a client id reserved for a registered device, or a session owned by another identity (3.1.1: 2)' },
  { code: 0x90, name: 'Topic Name invalid', packets: 'PUBACK, PUBREC', when: 'a topic over 1,024 bytes or 32 levels; the connection stays' },
  { code: 0x8F, name: 'Topic Filter invalid', packets: 'SUBACK', when: 'a filter over 1,024 bytes or 32 levels' },
];

/** What the engine keeps for each connection: who it is and its publish budget. */
interface Principal {
  who: Identity;
  bucket: TokenBucket | undefined;
  /** The revocation registry's mark taken before the credentials were checked (auth/live.ts). */
  mark?: number;
  live?: LiveHandle;
  /**
   * The last topic this connection published to that passed every check that
   * depends on the topic alone (`$`, the access rules, the policy's topic caps):
   * a device publishes to the same few topics all day, and the rules do not
   * change while the hub runs (auth/acl.ts), so a repeat skips them. Payload
   * checks (rate, shape) and retained messages are checked every time.
   */
  okTopic?: string;
}

/**
 * Engine-neutral MQTT policy beyond the access rules (auth/mqtt-policy.ts of
 * wip/mqttsec is wired in here: client-id and session ownership, topic caps,
 * the retained budget). Each check returns 0 to let the operation proceed, or an
 * MQTT 5 reason code (≥ 0x80) to refuse it (0x85 client id, 0x87, 0x97 quota,
 * 0x90/0x8F topic/filter invalid). The connection handle for claims is `c.meta`:
 * one object per connection, the same in ConnectInfo and later ClientContexts.
 * `c.sessionOwner` is the principal ({who}) of the session already held under
 * this client id, online or offline.
 */
export interface MqttPolicy {
  connect?(who: Identity, c: ConnectInfo): number | Promise<number>;
  /** For a message without RETAIN the answer must depend on (who, topic) only: the hooks remember the last topic allowed (Principal.okTopic). */
  publish?(who: Identity, c: ClientContext, m: EngineMessage): number;
  subscribe?(who: Identity, c: ClientContext, filter: string): number;
  /** The connection is gone (reason as the engine names it: 'disconnect', 'takeover', 'keepalive', …). */
  disconnected?(who: Identity, c: ClientContext, reason: string): void;
  /** An in-process retained publish (no client, no hooks: WebSocket doors, services); an Error refuses it (bus/core.ts admitRetained). */
  localRetained?(topic: string, payloadBytes: number): Error | undefined;
}

const principalOf = (c: ClientContext) => c.principal as Principal | undefined;

function credentials(username: string | undefined, password: Buffer | undefined): Credentials {
  const secret = password ? password.toString('utf8') : undefined;
  if (username === 'token' && secret) return { token: secret };
  if (username && secret !== undefined) return { login: { name: username, secret } };
  return {};
}

/**
 * How the hooks reach what exists only once the engine does, filled in by the
 * door (mqtt-door.ts): `disconnect` ends one connection when its credentials are
 * revoked (auth/live.ts); `onConnect`/`onDisconnect` hear of every accepted
 * connection and its end (the `$SYS` tree, mqtt-sys.ts).
 */
export interface EngineLink {
  disconnect?(clientId: string): void;
  onConnect?(clientId: string): void;
  onDisconnect?(clientId: string): void;
}

export function mqttCoreHooks(sec: Security, log: Logger, tlsClientAuth: string, policy: MqttPolicy = {}, engine: EngineLink = {}): Partial<Hooks> {
  const admit = async (who: Identity, c: ConnectInfo, mark?: number): Promise<ConnectDecision> => {
    const refused = (await policy.connect?.(who, c)) ?? 0;
    if (refused) return { ok: false, reasonCode: refused };
    return { ok: true, principal: { who, bucket: sec.publishBucket(), ...(mark !== undefined ? { mark } : {}) } satisfies Principal };
  };
  return {
    async authenticate(c) {
      const remote = c.meta.remote;
      const cn = tlsClientAuth !== 'off' && typeof c.meta.tlsCommonName === 'string' ? c.meta.tlsCommonName : undefined;
      if (cn) return admit({ kind: 'device', id: cn, role: 'device', credential: 'cert' }, c);
      const mark = sec.live.mark();
      try {
        const r = await sec.authenticator.authenticate(credentials(c.username, c.password), remote, c.meta.proxied === true);
        if (r.ok) return admit(r.identity, c, mark);
        sec.authFailures.record('mqtt', remote, r.code, { clientId: c.clientId });
        return { ok: false, reasonCode: r.code === 'BAD_CREDENTIALS' ? Reason.BAD_CREDENTIALS : Reason.NOT_AUTHORIZED, reasonString: r.message };
      } catch (err) {
        log.error({ door: 'mqtt', remote, err }, 'authentication unavailable');
        return { ok: false, reasonCode: Reason.SERVER_UNAVAILABLE };
      }
    },

    authorizePublish(c, m) {
      const p = principalOf(c);
      if (!p) return Reason.NOT_AUTHORIZED;
      const known = m.topic === p.okTopic && !m.retain; // the topic's own checks passed before (Principal.okTopic)
      // `$` topics belong to the hub ($fieldlink/…) and the broker ([MQTT-4.7.2-1]); a client's is refused, not a reason to close.
      if (!known && m.topic.charCodeAt(0) === 36) {
        sec.countError('mqtt', 'FORBIDDEN');
        return Reason.NOT_AUTHORIZED;
      }
      // The rate first: a refused publish costs a token like any other, so refusals cannot be flooded past --publish-rate.
      if (p.bucket && !p.bucket.take()) {
        sec.rateLimited++;
        return Reason.QUOTA_EXCEEDED;
      }
      if (!known && !sec.allow(p.who, 'publish', m.topic, 'mqtt')) return Reason.NOT_AUTHORIZED;
      if (sec.shapes.check('mqtt', m.topic, m.payload, p.who)) return Reason.PAYLOAD_FORMAT_INVALID;
      if (known) return 0;
      const rc = policy.publish?.(p.who, c, m) ?? 0;
      if (rc === 0 && !m.retain) p.okTopic = m.topic;
      return rc;
    },

    authorizeSubscribe(c, filter, qos: QoS) {
      const p = principalOf(c);
      if (!p || !sec.allow(p.who, 'subscribe', filter, 'mqtt')) return Reason.NOT_AUTHORIZED;
      return policy.subscribe?.(p.who, c, filter) || qos;
    },

    // Filed in the revocation registry while connected: revoking its credentials disconnects it (0x98).
    connected(c) {
      engine.onConnect?.(c.clientId);
      const p = principalOf(c);
      if (!p) return;
      const handle = sec.live.register('mqtt', p.who, () => engine.disconnect?.(c.clientId), p.mark);
      if (handle) p.live = handle;
      else engine.disconnect?.(c.clientId); // the registry is full: refused as every door refuses
    },

    disconnected(c, reason) {
      engine.onDisconnect?.(c.clientId);
      const p = principalOf(c);
      if (!p) return;
      p.live?.unregister();
      policy.disconnected?.(p.who, c, reason);
    },

    // A filter overlapping a deny rule (auth/acl.ts `screened`) is accepted, then each delivery is checked.
    screensSubscription(c, filter) {
      const p = principalOf(c);
      return Boolean(p && sec.acl.subscribeScope(p.who, filter) === 'screened');
    },

    authorizeDelivery(c, m) {
      const p = principalOf(c);
      if (p && sec.acl.can(p.who, 'subscribe', m.topic)) return true;
      sec.denied['mqtt:deliver'] = (sec.denied['mqtt:deliver'] ?? 0) + 1; // as the Aedes hooks count it
      return false;
    },
  };
}
