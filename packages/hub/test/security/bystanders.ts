/**
 * The legitimate traffic of the "one client must not degrade the hub" tests: a
 * device publishing over MQTT/TCP and a viewer on /ws receiving its telemetry,
 * plus the readers every hostile payload once broke (the `devices` op and
 * HTTP /api/v1/devices). `check()` asserts they are all still served.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { MqttClient } from 'mqtt';
import type { Logger } from '../../src/log.js';
import { RawClient, mqttConnect, wsUrl } from '../helpers.js';
import type { Secured } from './fixture.js';

export interface Bystanders {
  device: MqttClient;
  viewer: RawClient;
  /** The device publishes, the viewer receives it; the device list answers on /ws and HTTP and serialises. */
  check(): Promise<void>;
  close(): Promise<void>;
}

export async function bystanders(s: Secured): Promise<Bystanders> {
  const device = await mqttConnect(`mqtt://127.0.0.1:${s.hub.mqttPort}`, { username: 'd1', password: s.secret.d1 });
  const viewer = await RawClient.open(wsUrl(s.hub, '/ws'));
  assert.equal((await viewer.request('auth', { token: s.tokens.viewer })).ok, true);
  assert.equal((await viewer.request('sub', { filter: 'devices/d1/telemetry' })).ok, true);
  let n = 0;
  return {
    device,
    viewer,
    async check() {
      const v = ++n;
      await device.publishAsync('devices/d1/telemetry', JSON.stringify({ lux: v }), { qos: 1 });
      await viewer.waitFor((f) => f.op === 'msg' && (f.payload as { lux?: number }).lux === v, 10_000);
      const list = await viewer.request('devices', {}, 10_000);
      assert.equal(list.ok, true, `devices op: ${JSON.stringify(list.error)}`);
      assert.ok((list.result as { devices: { id: string }[] }).devices.some((d) => d.id === 'd1'));
      const res = await fetch(`${s.hub.url}/api/v1/devices`, { headers: { authorization: `Bearer ${s.tokens.viewer}` } });
      assert.equal(res.status, 200);
      assert.ok(((await res.json()) as { id: string }[]).some((d) => d.id === 'd1'));
      // the registry would have broken every reader: it must always serialise
      assert.doesNotThrow(() => JSON.stringify(s.hub.registry.list()));
      // the viewer's frames are not what these tests measure: keep memory flat
      viewer.frames.length = 0;
    },
    async close() {
      viewer.close();
      await device.endAsync();
    },
  };
}

/** A real pino logger counting the lines and bytes it writes, and keeping the lines. */
export function countingLog(): { log: Logger; lines: Record<string, unknown>[]; bytes: () => number } {
  const lines: Record<string, unknown>[] = [];
  let bytes = 0;
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: pino({ name: 'fieldlink', level: 'warn' }, out), lines, bytes: () => bytes };
}

/** One sample of a Prometheus text exposition, summed over the rows whose labels include `labels`. */
export async function metric(s: Secured, name: string, labels: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`${s.hub.url}/metrics`, { headers: { authorization: `Bearer ${s.tokens.viewer}` } });
  assert.equal(res.status, 200);
  let sum = 0;
  for (const line of (await res.text()).split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
