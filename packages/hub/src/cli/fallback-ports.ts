/**
 * `--fallback-ports` (the demo, `npm start`): a developer's machine often runs
 * Mosquitto on 1883 or something else on 8080. Rather than stopping with "port
 * in use", the demo takes a free port for each door that is taken and says which
 * one it took. A plain `fieldlink hub` never does this: a production hub on a
 * surprise port would strand its devices, so there a taken port stays an error.
 *
 * A port is probed by binding it on the configured host and closing again. The
 * hub binds right after, so another process could take the port in between: the
 * hub then fails with the usual "already in use" line (no silent second guess).
 */
import { createServer } from 'node:net';
import type { HubConfig } from '../config/options.js';

/** True when `port` can be bound on `host` now. */
export function portFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/** The configuration with every taken port replaced by "pick a free one" (HTTP 0, MQTT -1), and one note per change. */
export async function withFallbackPorts(cfg: HubConfig): Promise<{ cfg: HubConfig; notes: string[] }> {
  const notes: string[] = [];
  const next = { ...cfg };
  if (cfg.port > 0 && !(await portFree(cfg.port, cfg.host))) {
    next.port = 0;
    notes.push(`port ${cfg.port} is taken: the HTTP/WebSocket doors use a free port instead (--fallback-ports)`);
  }
  // 0 disables MQTT over TCP and -1 already means "a free port"; an external --bus has no MQTT door.
  if (cfg.mqttPort > 0 && !cfg.bus && !(await portFree(cfg.mqttPort, cfg.host))) {
    next.mqttPort = -1;
    notes.push(`port ${cfg.mqttPort} is taken (another MQTT broker?): MQTT uses a free port instead (--fallback-ports)`);
  }
  return { cfg: next, notes };
}
