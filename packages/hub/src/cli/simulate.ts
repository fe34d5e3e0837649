/**
 * The demo's simulated sensors: real MQTT clients of the hub's own TCP port (or
 * of /ws/device when MQTT over TCP is disabled), each reading an emulated
 * VEML7700 through the real driver (packages/device). The simulated room follows
 * this machine's clock: its time zone's longitude puts the evening lamps in the
 * user's evening, not in UTC's.
 */
import { startFleet, type Fleet } from '@fieldlink/device';
import type { Hub } from '../hub.js';
import type { Logger } from '../log.js';

export async function startSimulation(hub: Hub, count: number, intervalMs: number, log: Logger): Promise<Fleet> {
  const url = hub.mqttPort >= 0 ? `mqtt://127.0.0.1:${hub.mqttPort}` : `${hub.url.replace('http', 'ws')}/ws/device`;
  const longitude = -new Date().getTimezoneOffset() / 4; // minutes east of UTC → degrees
  return startFleet({ url, count, intervalMs, light: 'indoor', longitude, onLog: (line) => log.info({ sim: true }, line) });
}
