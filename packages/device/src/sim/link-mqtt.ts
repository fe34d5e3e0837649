/**
 * DeviceLink over MQTT (MQTT.js 5, protocol 3.1.1): `mqtt://`, `mqtts://`, and
 * MQTT over WebSocket (`ws://host:port/mqtt`). Topics and payloads follow the
 * device conventions of design.md: retained birth `{online:true}` and meta on
 * connect, retained last will `{online:false, ts:0, reason:"will"}`, commands on
 * `devices/{id}/cmd/+` answered on `…/cmd/{method}/res`.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { deviceTopic, parseDeviceTopic, type CommandResponse, type DeviceStatus } from '@fieldlink/protocol';
import { errorMessage, type DeviceLink, type DeviceLinkOptions } from './link.js';

export class MqttLink implements DeviceLink {
  readonly #o: DeviceLinkOptions;
  #client: MqttClient | undefined;
  #connected = false;

  constructor(opts: DeviceLinkOptions) {
    this.#o = opts;
  }

  get connected(): boolean {
    return this.#connected;
  }

  start(): Promise<void> {
    const o = this.#o;
    const id = o.deviceId;
    const will: DeviceStatus = { online: false, ts: 0, reason: 'will' };
    const client = mqtt.connect(o.url, {
      clientId: id,
      protocolVersion: 4,
      clean: true,
      keepalive: o.keepaliveSec ?? 60,
      reconnectPeriod: o.reconnectMs ?? 1000,
      connectTimeout: o.connectTimeoutMs ?? 30_000,
      ...(o.secret !== undefined ? { username: id, password: o.secret } : {}),
      // [MQTT-3.1.2-8] the broker publishes the will when the network connection closes without DISCONNECT.
      will: { topic: deviceTopic.status(id), payload: Buffer.from(JSON.stringify(will)), qos: 1, retain: true },
    });
    this.#client = client;
    client.on('message', (topic, payload) => void this.#onMessage(topic, payload));
    client.on('close', () => this.#setState(false));
    return new Promise<void>((resolve, reject) => {
      let first = true;
      client.on('connect', () => {
        void this.#birth().then(() => {
          this.#setState(true);
          if (first) { first = false; resolve(); }
        }, (err: unknown) => o.onLog?.(`${id}: birth failed: ${errorMessage(err)}`));
      });
      client.on('error', (err) => {
        if (first) {
          first = false;
          client.end(true);
          reject(new Error(`${id}: cannot connect to ${o.url}: ${errorMessage(err)}`, { cause: err }));
        } else {
          o.onLog?.(`${id}: ${errorMessage(err)}`);
        }
      });
    });
  }

  async #birth(): Promise<void> {
    const c = this.#client!;
    const id = this.#o.deviceId;
    const status: DeviceStatus = { online: true, ts: Date.now() };
    await Promise.all([
      c.publishAsync(deviceTopic.status(id), JSON.stringify(status), { qos: 1, retain: true }),
      c.publishAsync(deviceTopic.meta(id), JSON.stringify(this.#o.meta), { qos: 1, retain: true }),
      c.subscribeAsync(deviceTopic.cmd(id, '+'), { qos: 1 }),
    ]);
  }

  #setState(connected: boolean): void {
    if (this.#connected === connected) return;
    this.#connected = connected;
    this.#o.onState?.(connected);
  }

  async #onMessage(topic: string, payload: Buffer): Promise<void> {
    const t = parseDeviceTopic(topic);
    if (t?.kind !== 'cmd' || t.device !== this.#o.deviceId || !t.method) return;
    let req: { id?: unknown; params?: unknown };
    try {
      req = JSON.parse(payload.toString('utf8')) as typeof req;
    } catch {
      this.#o.onLog?.(`${t.device}: ignored a command that is not JSON on ${topic}`);
      return;
    }
    if (typeof req !== 'object' || req === null || typeof req.id !== 'string') return; // nobody to answer
    let res: CommandResponse;
    try {
      res = { id: req.id, ok: true, result: await this.#o.onCommand(t.method, req.params) };
    } catch (err) {
      res = { id: req.id, ok: false, error: { message: errorMessage(err) } };
    }
    this.#client?.publish(deviceTopic.cmdResponse(t.device, t.method), JSON.stringify(res), { qos: 1 });
  }

  async telemetry(data: Record<string, number>, ts: number, opts: { ack?: boolean } = {}): Promise<void> {
    const c = this.#client;
    if (!c || !this.#connected) throw new Error('not connected');
    await c.publishAsync(deviceTopic.telemetry(this.#o.deviceId), JSON.stringify({ ...data, ts }), { qos: opts.ack ? 1 : 0 });
  }

  async stop(opts: { graceful?: boolean } = {}): Promise<void> {
    const c = this.#client;
    if (!c) return;
    this.#client = undefined;
    if (opts.graceful && c.connected) {
      const status: DeviceStatus = { online: false, ts: Date.now(), reason: 'shutdown' };
      await c.publishAsync(deviceTopic.status(this.#o.deviceId), JSON.stringify(status), { qos: 1, retain: true }).catch(() => undefined);
      await c.endAsync();
    } else {
      c.stream?.destroy(); // no DISCONNECT: the broker publishes the will
      await c.endAsync(true);
    }
    this.#setState(false);
  }
}
