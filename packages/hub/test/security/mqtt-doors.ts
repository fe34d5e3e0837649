/**
 * A secured hub with TLS for the MQTT attack tests: every MQTT door (TCP,
 * MQTTS, /mqtt over WSS), an admin user and extra devices, and the legitimate
 * pair that must stay unaffected (device d1 publishing over MQTT, a viewer
 * browser on /ws receiving).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { HubConfig } from '../../src/config/options.js';
import { runCert } from '../../src/cli/cert.js';
import { fastHash, generateSecret, hashPassword } from '../../src/auth/secrets.js';
import { openIdentities } from '../../src/storage/index.js';
import { RawClient, wsUrl } from '../helpers.js';
import { securedHub, type Secured } from './fixture.js';

export interface Door {
  name: 'tcp' | 'mqtts' | '/mqtt';
  url: string;
  opts: IClientOptions;
}

export interface MqttHub {
  s: Secured;
  /** The embedded bus's MQTT engine (FIELDLINK_MQTT_ENGINE): where the two differ by design, tests say how. */
  engine: 'core' | 'aedes';
  ca: Buffer;
  doors: Door[];
  admin: { user: string; password: string };
  /** Client certificate and key of a device made with `fieldlink cert dev --device` (only `certdev`). */
  cert(device: string): Buffer;
  key(device: string): Buffer;
  /** The session-present flag of a client's CONNACK. */
  sessionPresent(c: MqttClient): boolean;
  /** Register another device; returns its secret. */
  addDevice(id: string): Promise<string>;
  browser(auth: Record<string, unknown>): Promise<RawClient>;
  connect(door: Door, opts: IClientOptions): Promise<MqttClient>;
  /** Every message a client made by `connect` received, from its CONNACK on (a broker may send queued ones in the same write). */
  inbox(c: MqttClient): { topic: string; payload: string }[];
  /** CONNACK return code of a connection attempt (0 = accepted). */
  connack(door: Door, opts: IClientOptions): Promise<number>;
  metrics(): Promise<string>;
  /** The legitimate device publishes; the legitimate viewer receives it; neither was ever disconnected. */
  legitFlowing(): Promise<void>;
  /** The legitimate device retains its meta; it is stored. */
  legitRetained(tag: string): Promise<void>;
  stop(): Promise<void>;
}

export async function mqttHub(over: Partial<HubConfig> = {}): Promise<MqttHub> {
  const dir = mkdtempSync(join(tmpdir(), 'fl-mqttsec-'));
  const log = console.log;
  console.log = () => undefined;
  await runCert(['dev', '--out', dir, '--hosts', 'localhost,127.0.0.1', '--device', 'certdev']);
  console.log = log;
  const f = (n: string) => join(dir, n);
  const s = await securedHub({ tlsCert: f('server.pem'), tlsKey: f('server-key.pem'), tlsCa: f('ca.pem'), tlsClientAuth: 'optional', mqttsPort: -1, publishRate: 0, ...over });
  const ca = readFileSync(f('ca.pem'));
  const ids = openIdentities({ url: s.store });
  const admin = { user: 'ada', password: 'admin-password-1' };
  await ids.putUser({ name: admin.user, passwordHash: await hashPassword(admin.password), role: 'admin', createdAt: Date.now() });
  const doors: Door[] = [
    { name: 'tcp', url: `mqtt://127.0.0.1:${s.hub.mqttPort}`, opts: {} },
    { name: 'mqtts', url: `mqtts://localhost:${s.hub.mqttsPort}`, opts: { ca } },
    { name: '/mqtt', url: `wss://localhost:${s.hub.httpPort}/mqtt`, opts: { ca } },
  ];
  const acks = new WeakMap<MqttClient, boolean>();
  const inboxes = new WeakMap<MqttClient, { topic: string; payload: string }[]>();
  const inbox = (c: MqttClient) => inboxes.get(c) ?? [];
  const connect = (d: Door, o: IClientOptions) =>
    new Promise<MqttClient>((resolve, reject) => {
      const c = mqtt.connect(d.url, { reconnectPeriod: 0, connectTimeout: 5000, ...d.opts, ...o });
      const got: { topic: string; payload: string }[] = [];
      inboxes.set(c, got);
      c.on('message', (topic, payload) => got.push({ topic, payload: payload.toString() }));
      c.once('connect', (ack) => (acks.set(c, ack.sessionPresent), resolve(c)));
      c.once('error', reject);
    });
  const connack = (d: Door, o: IClientOptions) =>
    new Promise<number>((resolve) => {
      const c = mqtt.connect(d.url, { reconnectPeriod: 0, connectTimeout: 5000, ...d.opts, ...o });
      c.once('connect', () => (c.end(true), resolve(0)));
      c.once('error', (e: Error & { code?: number }) => (c.end(true), resolve(typeof e.code === 'number' ? e.code : -1)));
    });
  const browser = async (auth: Record<string, unknown>) => {
    const b = await RawClient.open(wsUrl(s.hub, '/ws'), undefined, { ca });
    assert.equal((await b.request('auth', auth)).ok, true);
    return b;
  };

  const device = await connect(doors[0]!, { username: 'd1', password: s.secret.d1, clientId: 'd1' });
  let deviceClosed = 0;
  device.on('close', () => deviceClosed++);
  const viewer = await browser({ token: s.tokens.viewer });
  assert.equal((await viewer.request('sub', { filter: 'devices/+/telemetry' })).ok, true);
  let n = 0;

  return {
    s,
    engine: (s.hub.bus as { engine?: 'core' | 'aedes' }).engine ?? 'aedes',
    ca,
    doors,
    admin,
    cert: (id) => readFileSync(f(`device-${id}.pem`)),
    key: (id) => readFileSync(f(`device-${id}-key.pem`)),
    sessionPresent: (c) => acks.get(c) === true,
    async addDevice(id) {
      const secret = generateSecret();
      await ids.putDevice({ id, secretHash: fastHash(secret), createdAt: Date.now() });
      return secret;
    },
    browser,
    connect,
    inbox,
    connack,
    metrics: () =>
      new Promise<string>((resolve, reject) => {
        https.get(`${s.hub.url.replace('127.0.0.1', 'localhost')}/metrics`, { ca, headers: { authorization: `Bearer ${s.tokens.viewer}` } }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve(body));
        }).on('error', reject);
      }),
    async legitFlowing() {
      const v = ++n;
      await device.publishAsync('devices/d1/telemetry', JSON.stringify({ lux: v, legit: 1 }), { qos: 1 });
      await viewer.waitFor((m) => m.op === 'msg' && (m.payload as { lux?: number; legit?: number }).lux === v, 5000);
      assert.equal(deviceClosed, 0, 'the legitimate device was never disconnected');
      assert.equal(viewer.closed, undefined, 'the legitimate viewer was never disconnected');
    },
    async legitRetained(tag) {
      await device.publishAsync('devices/d1/meta', JSON.stringify({ model: tag }), { qos: 1, retain: true });
      const [m] = await s.hub.bus.retained('devices/d1/meta');
      assert.equal((JSON.parse(m!.payload.toString()) as { model: string }).model, tag, 'the legitimate device\'s retained meta is stored');
    },
    async stop() {
      viewer.close();
      await device.endAsync();
      await ids.close();
      await s.stop();
    },
  };
}
