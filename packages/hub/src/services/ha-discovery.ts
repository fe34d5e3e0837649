/**
 * Home Assistant MQTT discovery (`--ha-discovery`, docs/integrations.md): for
 * every device with a retained `devices/{id}/meta`, retained config messages at
 * `{prefix}/{component}/fieldlink_{node}/{object}/config`:
 *
 *   sensor  per metric: state topic devices/{id}/telemetry, value template
 *           picking the field, unit, device_class from the unit (lx → illuminance)
 *   button  per method without parameters (payload: a command request)
 *   number  per method with one numeric parameter without enum (min/max from the meta)
 *   select  per method with one parameter with an enum
 *
 * All carry availability from devices/{id}/status and a `device` block (model,
 * firmware). A changed meta republishes and clears what no longer exists; a
 * cleared meta (device removed) clears every config of that device. Other
 * method shapes are not exposed. Home Assistant's MQTT integration wants an MQTT 5
 * broker: see docs/integrations.md for what the embedded broker offers today.
 */
import { parseDeviceTopic, type DeviceMeta } from '@fieldlink/protocol';
import type { Bus, BusMessage, Subscription } from '../bus/types.js';
import { NOT_JSON, jsonOf } from '../bus/json.js';
import type { Logger } from '../log.js';

type Param = { type?: string; enum?: unknown[]; min?: number; max?: number; description?: string };

const DEVICE_CLASS: Record<string, string> = { lx: 'illuminance', '°C': 'temperature', '°F': 'temperature', hPa: 'pressure', Pa: 'pressure', V: 'voltage', A: 'current', W: 'power', dBm: 'signal_strength' };
const node = (id: string) => `fieldlink_${id.replace(/[^A-Za-z0-9_-]/g, '_')}`;
const object = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, '_');
const field = (name: string) => `value_json[${JSON.stringify(name)}]`;

/** The retained config messages (topic → JSON body) for one device's meta. */
export function discoveryConfigs(prefix: string, id: string, meta: DeviceMeta): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  const base = {
    availability: [{ topic: `devices/${id}/status`, value_template: "{{ 'online' if value_json.online else 'offline' }}" }],
    device: { identifiers: [`fieldlink_${id}`], name: id, manufacturer: 'Fieldlink', ...(meta.model ? { model: String(meta.model) } : {}), ...(meta.firmware ? { sw_version: String(meta.firmware) } : {}) },
    origin: { name: 'Fieldlink hub' },
  };
  const topic = (component: string, obj: string) => `${prefix}/${component}/${node(id)}/${object(obj)}/config`;
  for (const [metric, spec] of Object.entries(meta.metrics ?? {})) {
    const unit = (spec as { unit?: unknown } | null)?.unit;
    const dc = typeof unit === 'string' ? DEVICE_CLASS[unit] : undefined;
    out.set(topic('sensor', metric), {
      ...base, name: metric, unique_id: `fieldlink_${id}_${metric}`, state_topic: `devices/${id}/telemetry`,
      value_template: `{{ ${field(metric)} }}`, state_class: 'measurement',
      ...(typeof unit === 'string' && unit !== 'counts' ? { unit_of_measurement: unit } : {}), ...(dc ? { device_class: dc } : {}),
    });
  }
  for (const [method, spec] of Object.entries(meta.methods ?? {})) {
    const params = Object.entries(((spec as { params?: Record<string, Param> } | null)?.params ?? {}) as Record<string, Param>);
    const common = { ...base, name: method.replace(/_/g, ' '), unique_id: `fieldlink_${id}_cmd_${method}`, command_topic: `devices/${id}/cmd/${method}` };
    const request = (value: string) => `{"id":"ha-${method}","params":{${value}}}`;
    if (params.length === 0) {
      out.set(topic('button', method), { ...common, payload_press: request('') });
    } else if (params.length === 1) {
      const [name, p] = params[0]!;
      const numeric = p.type === 'integer' || p.type === 'number';
      const cast = p.type === 'integer' ? ' | int' : p.type === 'number' ? ' | float' : ' | tojson';
      const tmpl = request(`${JSON.stringify(name)}:{{ value${cast} }}`);
      if (Array.isArray(p.enum) && p.enum.length > 0) out.set(topic('select', method), { ...common, options: p.enum.map(String), command_template: tmpl });
      else if (numeric) {
        out.set(topic('number', method), {
          ...common, command_template: tmpl, mode: 'box', ...(p.min !== undefined ? { min: p.min } : {}), ...(p.max !== undefined ? { max: p.max } : {}),
          step: p.type === 'integer' ? 1 : 0.001,
        });
      }
    }
  }
  return out;
}

export interface HaDiscovery {
  stats(): { devices: number; configs: number };
  stop(): Promise<void>;
}

export async function startHaDiscovery(bus: Bus, prefix: string, log: Logger): Promise<HaDiscovery> {
  const published = new Map<string, Set<string>>(); // device → config topics it has now
  const publish = (topic: string, body: string) => bus.publish(topic, body, { qos: 1, retain: true }).catch((err: unknown) => log.warn({ err, topic }, 'HA discovery publish failed'));
  const onMeta = (m: BusMessage) => {
    const t = parseDeviceTopic(m.topic);
    if (!t || t.kind !== 'meta') return;
    const body = m.payload.length === 0 ? null : jsonOf(m);
    const meta = body && body !== NOT_JSON && typeof body === 'object' && !Array.isArray(body) ? (body as DeviceMeta) : null;
    const next = meta ? discoveryConfigs(prefix, t.device, meta) : new Map<string, Record<string, unknown>>();
    const before = published.get(t.device) ?? new Set<string>();
    for (const [topic, cfg] of next) void publish(topic, JSON.stringify(cfg));
    for (const topic of before) if (!next.has(topic)) void publish(topic, ''); // an empty retained config removes the entity
    if (next.size) published.set(t.device, new Set(next.keys()));
    else published.delete(t.device);
  };
  const sub: Subscription = await bus.subscribe('devices/+/meta', onMeta);
  return {
    stats: () => ({ devices: published.size, configs: [...published.values()].reduce((n, s) => n + s.size, 0) }),
    stop: () => sub.unsubscribe(),
  };
}
