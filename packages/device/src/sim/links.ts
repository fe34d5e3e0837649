/**
 * URL → DeviceLink, as a table (design.md: "a table from protocol name to a
 * small transport module"). `ws(s)://…/ws/device` is the JSON device door; every
 * other ws(s):// URL (normally `/mqtt`) and mqtt(s):// / tcp:// is MQTT.
 */
import type { DeviceLink, DeviceLinkOptions } from './link.js';
import { MqttLink } from './link-mqtt.js';
import { WsDeviceLink } from './link-ws.js';

const MQTT = (o: DeviceLinkOptions) => new MqttLink(o);

const LINKS: Record<string, (o: DeviceLinkOptions, url: URL) => DeviceLink> = {
  'mqtt:': MQTT,
  'mqtts:': MQTT,
  'tcp:': MQTT,
  'ws:': (o, url) => (isDeviceDoor(url) ? new WsDeviceLink(o) : MQTT(o)),
  'wss:': (o, url) => (isDeviceDoor(url) ? new WsDeviceLink(o) : MQTT(o)),
};

function isDeviceDoor(url: URL): boolean {
  return url.pathname.replace(/\/+$/, '').endsWith('/ws/device');
}

export function createLink(opts: DeviceLinkOptions): DeviceLink {
  let url: URL;
  try {
    url = new URL(opts.url);
  } catch {
    throw new Error(`invalid hub URL '${opts.url}': expected mqtt://host:port, ws://host:port/mqtt or ws://host:port/ws/device`);
  }
  const make = LINKS[url.protocol];
  if (!make) throw new Error(`unsupported hub URL scheme '${url.protocol}' in '${opts.url}': use ${Object.keys(LINKS).map((p) => p.slice(0, -1)).join(', ')}`);
  return make(opts, url);
}

/** Which door a URL selects, for logs and docs. */
export function linkKind(urlText: string): 'mqtt' | 'ws-device' {
  const url = new URL(urlText);
  return (url.protocol === 'ws:' || url.protocol === 'wss:') && isDeviceDoor(url) ? 'ws-device' : 'mqtt';
}
