/** An MQTT client that records every message under devices/# and can wait for one. */
import mqtt, { type MqttClient } from 'mqtt';

export interface Seen { topic: string; payload: Record<string, unknown>; retain: boolean }

export class Observer {
  readonly seen: Seen[] = [];
  readonly client: MqttClient;
  #waiters: { pred: (m: Seen) => boolean; resolve: (m: Seen) => void }[] = [];

  private constructor(client: MqttClient) {
    this.client = client;
    client.on('message', (topic, payload, packet) => {
      let parsed: Record<string, unknown>;
      try { parsed = JSON.parse(payload.toString()) as Record<string, unknown>; } catch { return; }
      const m = { topic, payload: parsed, retain: packet.retain };
      this.seen.push(m);
      this.#waiters = this.#waiters.filter((w) => (w.pred(m) ? (w.resolve(m), false) : true));
    });
  }

  static async connect(url: string, filter = 'devices/#'): Promise<Observer> {
    const client = await mqtt.connectAsync(url, { clientId: `obs-${Math.random().toString(36).slice(2)}`, reconnectPeriod: 200 });
    const o = new Observer(client);
    await client.subscribeAsync(filter, { qos: 1 });
    return o;
  }

  waitFor(pred: (m: Seen) => boolean, timeoutMs = 5000): Promise<Seen> {
    const hit = this.seen.find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('observer: timed out waiting for a message')), timeoutMs);
      this.#waiters.push({ pred, resolve: (m) => { clearTimeout(timer); resolve(m); } });
    });
  }

  /** Publishes a command and waits for its response. */
  async call(device: string, method: string, params: unknown, id = `r${Math.random().toString(36).slice(2)}`): Promise<Record<string, unknown>> {
    const res = this.waitFor((m) => m.topic === `devices/${device}/cmd/${method}/res` && m.payload.id === id);
    await this.client.publishAsync(`devices/${device}/cmd/${method}`, JSON.stringify({ id, params }), { qos: 1 });
    return (await res).payload;
  }

  close(): Promise<void> {
    return this.client.endAsync(true);
  }
}
