/**
 * Gateway role: sensors wired to the hub's own machine (a Raspberry Pi),
 * `--local-sensor veml7700@i2c-1[:id]` or `veml7700@emulated[:id]`. Each runs as an
 * in-process sensor node publishing to this hub over loopback, so it is a device
 * like any other (status, meta, commands, history).
 */
import { hostname } from 'node:os';
import { startNode, type SensorNode } from '@fieldlink/device';
import { ConfigError } from '../config/schema.js';
import type { Hub } from '../hub.js';
import type { Logger } from '../log.js';

interface Spec { i2cBus?: number; id: string }

export function parseLocalSensor(spec: string): Spec {
  const m = /^veml7700@(?:i2c-(\d{1,3})|(emulated))(?::([A-Za-z0-9][A-Za-z0-9._:-]{0,63}))?$/.exec(spec.trim());
  if (!m) throw new ConfigError(`--local-sensor "${spec}": expected veml7700@i2c-<bus> or veml7700@emulated, optionally :<device id>`);
  const bus = m[1] === undefined ? undefined : Number(m[1]);
  const id = m[3] ?? `${hostname().replace(/[^A-Za-z0-9._:-]/g, '-')}-veml7700-${bus === undefined ? 'emu' : `i2c${bus}`}`;
  return bus === undefined ? { id } : { id, i2cBus: bus };
}

export async function startLocalSensors(hub: Hub, specs: string[], log: Logger): Promise<SensorNode[]> {
  const parsed = specs.map(parseLocalSensor);
  const url = hub.mqttPort >= 0 ? `mqtt://127.0.0.1:${hub.mqttPort}` : `${hub.url.replace('http', 'ws')}/ws/device`;
  const nodes: SensorNode[] = [];
  for (const s of parsed) {
    nodes.push(await startNode({ ...s, hub: url, port: 0, host: '127.0.0.1', onLog: (line) => log.info({ sensor: s.id }, line) }));
    log.info({ sensor: s.id, i2cBus: s.i2cBus ?? 'emulated' }, 'local sensor running');
  }
  return nodes;
}
