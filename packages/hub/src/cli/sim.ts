/**
 * `fieldlink sim`: N simulated VEML7700 devices as real clients of a hub, with
 * a live summary line (connected, msgs/s, errors) while it runs.
 */
import { formatFleetStats, startFleet } from '@fieldlink/device';
import { simOptions } from '../config/options.js';
import { isTTY, loadConfig } from '../config/load.js';
import { createLogger } from '../log.js';
import { onShutdown } from './signals.js';

export async function runSim(argv: string[]): Promise<void> {
  const warnings: string[] = [];
  const cfg = loadConfig(simOptions, argv, (m) => warnings.push(m));
  const log = createLogger(cfg.logLevel, 'fieldlink-sim');
  for (const w of warnings) log.warn(w);
  const tty = isTTY();
  // Handlers first, so a stop during start-up is graceful too.
  const ready = onShutdown(log, cfg.shutdownTimeoutMs);
  process.stderr.write(`connecting ${cfg.devices} device(s) to ${cfg.url}…\n`);
  const started = Date.now();
  const fleet = await startFleet({
    url: cfg.url,
    count: cfg.devices,
    intervalMs: cfg.intervalMs,
    idPrefix: cfg.idPrefix,
    light: cfg.light,
    latitude: cfg.latitude,
    longitude: cfg.longitude,
    seed: cfg.seed,
    connectConcurrency: cfg.connectConcurrency,
    ack: cfg.ack,
    onLog: (line) => log.debug(line),
  });
  log.info({ devices: cfg.devices, connectMs: Date.now() - started, url: cfg.url }, 'fleet connected');
  // Progress: one rewritten line on a terminal, a line every 5 s otherwise (logs, CI).
  const timer = setInterval(() => {
    const line = formatFleetStats(fleet.stats());
    if (tty) process.stderr.write(`\r${line}   `);
    else log.info({ stats: fleet.stats() }, line);
  }, tty ? 1000 : 5000);
  const stop = async () => {
    clearInterval(timer);
    if (tty) process.stderr.write('\n');
    await fleet.stop({ graceful: true });
    log.info({ stats: fleet.stats() }, 'fleet stopped');
  };
  ready(stop);
  if (cfg.durationSec > 0) setTimeout(() => void stop().then(() => process.exit(0)), cfg.durationSec * 1000);
}
