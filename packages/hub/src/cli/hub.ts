/**
 * `fieldlink hub`: start the hub (and the demo's simulated sensors with
 * --simulate), print where to look, stop gracefully on SIGINT/SIGTERM (exit 0),
 * or at once on a second signal (exit 1).
 */
import { hubOptions } from '../config/options.js';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../log.js';
import { startHub } from '../hub.js';
import { withFallbackPorts } from './fallback-ports.js';
import { onShutdown } from './signals.js';

export async function runHub(argv: string[]): Promise<number | void> {
  const warnings: string[] = [];
  let cfg = loadConfig(hubOptions, argv, (m) => warnings.push(m));
  const log = createLogger(cfg.logLevel);
  for (const w of warnings) log.warn(w);
  const fallback = cfg.fallbackPorts ? await withFallbackPorts(cfg) : undefined;
  if (fallback) {
    cfg = fallback.cfg;
    for (const note of fallback.notes) log.warn(note);
  }

  // Signal handlers go in before anything starts, so a stop during start-up is graceful too.
  const ready = onShutdown(log, cfg.shutdownTimeoutMs);

  const hub = await startHub(cfg, log);
  // Loaded only for the demo, so a plain hub never loads the device package.
  const sim = cfg.simulate > 0 ? await (await import('./simulate.js')).startSimulation(hub, cfg, log) : undefined;
  const local = cfg.localSensor.length ? await (await import('./local-sensors.js')).startLocalSensors(hub, cfg.localSensor, log) : [];
  ready(async () => {
    for (const n of local) await n.stop();
    await sim?.stop();
    await hub.stop();
  });
  // SIGHUP: re-read TLS certificates (renewals apply to new connections without a restart) and the alerts file.
  process.on('SIGHUP', () => {
    try {
      hub.reloadTls();
    } catch (err) {
      log.error({ err }, 'TLS reload failed; keeping the old certificates');
    }
    try {
      hub.reloadAlerts();
    } catch (err) {
      log.error({ err }, 'alerts file reload failed; keeping the running rules');
    }
  });

  const shown = hub.url.replace('://127.0.0.1:', '://localhost:');
  process.stderr.write(
    `\nFieldlink hub is running\n  dashboard   ${shown}/\n  browser API ${shown.replace('http', 'ws')}/ws\n` +
      `  MQTT        ${hub.mqttPort >= 0 ? `mqtt://${cfg.host}:${hub.mqttPort}` : 'TCP disabled'} · MQTT over WebSocket ${shown.replace('http', 'ws')}/mqtt\n` +
      (sim ? `  simulating  ${cfg.simulate} VEML7700 light sensor(s): ${sim.ids.slice(0, 5).join(', ')}${sim.ids.length > 5 ? ', …' : ''}\n` : '') +
      (fallback?.notes ?? []).map((n) => `  note        ${n}\n`).join('') +
      `  Ctrl-C stops it.\n\n`,
  );
}
