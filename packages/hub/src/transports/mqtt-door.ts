/**
 * The MQTT door: what the TCP, TLS and /mqtt adapters (mqtt.ts) hand their
 * streams to, whichever engine runs the embedded bus. Adapters know nothing of
 * the engine; engines know nothing of sockets (design.md). The hub's Security
 * applies through each engine's own hooks: Aedes' callbacks (mqtt-security.ts)
 * or the core engine's Hooks (mqtt-core-security.ts), with the same identities,
 * access rules, publish rate and counters on every door.
 */
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import type { EmbeddedBus, EmbeddedBusOptions } from '../bus/index.js';
import type { Security } from '../auth/index.js';
import { ownerKey } from '../auth/mqtt-policy.js';
import type { Identity } from '../auth/acl.js';
import type { HubConfig } from '../config/options.js';
import { mqttLimits } from '../config/mqtt.js';
import type { Logger } from '../log.js';
import { installMqttSecurity, type MqttSecurityOptions } from './mqtt-security.js';
import { mqttCoreHooks, type EngineLink, type MqttPolicy } from './mqtt-core-security.js';
import { startSysTree } from './mqtt-sys.js';
import { VERSION } from '../version.js';
import { guardReads } from './mqtt-limit.js';

/** What an adapter knows about one connection (the core engine's ConnectionMeta). */
export interface MqttConnectionMeta {
  remote: string;
  transport: 'tcp' | 'tls' | 'ws';
  /** CN of a client certificate the TLS layer verified against --tls-ca. */
  tlsCommonName?: string;
  /** The upgrade request of /mqtt (Aedes reads the remote address from it). */
  req?: IncomingMessage;
}

export interface MqttDoor {
  readonly engine: 'core' | 'aedes';
  /** Serve one connection; the engine ends the stream when the MQTT connection ends. */
  handle(stream: Duplex, meta: MqttConnectionMeta): void;
  readonly connectedClients: number;
  /** The engine's own counters (malformed packets, queue drops, refusals…) for /metrics; Aedes keeps none. */
  counters(): Readonly<Record<string, number>>;
  /** Refusals the engine made itself, as `mqtt:<code name>` rows of fieldlink_errors_total (the hooks count theirs in Security.errors). */
  errors(): Readonly<Record<string, number>>;
  /** Stops what the door runs beside the engine (the core engine's $SYS timer). */
  close(): void;
}

/** Engine counters that are refusals with a code of the one table (docs/errors.md). */
const ENGINE_ERRORS: Record<string, string> = { packet_too_large: 'FRAME_TOO_LARGE' };

export interface MqttDoorDeps {
  security: Security;
  log: Logger;
  tlsClientAuth: string;
  maxPacketBytes: number;
  /** Client-id/session ownership and the retained budget (auth/mqtt-policy.ts), for the Aedes hooks; the core engine has them in its hooks. */
  policy: Omit<MqttSecurityOptions, 'tlsClientAuth'>;
  /** Filled here for the core engine: how its hooks end one connection (revocation) and tell the $SYS tree of connections. */
  engineRef?: EngineLink;
  /** Core engine: seconds between $SYS updates (mqtt-sys.ts); 0 publishes it on connections only. */
  sysIntervalSec?: number;
}

/**
 * How to create the embedded bus for this configuration: the engine, its limits
 * and profile, and for the core engine the hooks through which Security applies
 * (they are the engine's constructor options). `policy`: the engine-neutral MQTT
 * policy seam (mqtt-core-security.ts).
 */
export function embeddedBusOptions(cfg: HubConfig, security: Security, log: Logger, policy?: MqttPolicy, engineRef?: EngineLink): EmbeddedBusOptions {
  const engine = cfg.mqttEngine as 'core' | 'aedes';
  if (engine === 'aedes') return { kind: 'embedded', engine };
  return {
    kind: 'embedded', engine, limits: mqttLimits(cfg), hooks: mqttCoreHooks(security, log, cfg.tlsClientAuth, policy, engineRef),
    ...(policy?.localRetained ? { admitRetained: policy.localRetained } : {}),
  };
}

/** The door of an embedded bus, its security installed (Aedes) or already in its hooks (core). One per hub. */
export function openMqttDoor(bus: EmbeddedBus, d: MqttDoorDeps): MqttDoor {
  const oversize = () => d.security.countError('mqtt', 'FRAME_TOO_LARGE');
  switch (bus.engine) {
    case 'aedes': {
      const broker = bus.broker;
      installMqttSecurity(broker, d.security, d.log, { tlsClientAuth: d.tlsClientAuth, ...d.policy });
      return {
        engine: 'aedes',
        // Aedes has no packet size limit of its own: the byte guard cuts oversized packets before they are buffered.
        handle: (stream, meta) => broker.handle(guardReads(stream, d.maxPacketBytes, oversize), meta.req),
        get connectedClients() {
          return broker.connectedClients;
        },
        counters: () => ({}),
        errors: () => ({}), // the byte guard counts FRAME_TOO_LARGE into Security.errors itself
        close: () => undefined, // Aedes publishes its own $SYS
      };
    }
    case 'core': {
      const engine = bus.mqtt;
      const sys = startSysTree(bus, engine, { intervalSec: d.sysIntervalSec ?? 10, version: VERSION });
      if (d.engineRef) {
        d.engineRef.disconnect = (clientId) => void engine.disconnectClient(clientId);
        d.engineRef.onConnect = (clientId) => sys.connected(clientId);
        d.engineRef.onDisconnect = (clientId) => sys.disconnected(clientId);
      }
      // Sessions restored from the store (bus/core.ts) keep their owner across the restart: the principal
      // ({who}) was stored as JSON with the session.
      for (const s of engine.sessions.values()) {
        const who = (s.owner as { who?: Identity } | undefined)?.who;
        if (who && typeof who.kind === 'string' && typeof who.id === 'string') d.policy.owners.restored(s.clientId, ownerKey(who));
      }
      return {
        engine: 'core',
        // The engine's framer refuses a packet over its maxPacketBytes before reading its body (v5: DISCONNECT 0x95).
        // /mqtt: the client's address and whether it came through a proxy come from the upgrade request (auth/peer.ts), as on Aedes.
        handle: (stream, meta) => {
          const peer = meta.req ? d.security.peer(meta.req) : { address: meta.remote, proxied: false };
          engine.handle(stream, { remote: peer.address, proxied: peer.proxied, transport: meta.transport, ...(meta.tlsCommonName ? { tlsCommonName: meta.tlsCommonName } : {}) });
        },
        get connectedClients() {
          return engine.connectedClients;
        },
        counters: () => engine.counters,
        errors: () => {
          const out: Record<string, number> = {};
          for (const [counter, code] of Object.entries(ENGINE_ERRORS)) if (engine.counters[counter]) out[`mqtt:${code}`] = engine.counters[counter]!;
          return out;
        },
        close: () => sys.stop(),
      };
    }
  }
}
