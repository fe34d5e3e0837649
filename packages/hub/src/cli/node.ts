/**
 * `fieldlink node`: the sensor node. Reads a VEML7700 (real on --i2c-bus, else
 * emulated), serves its own live page, and publishes to a hub with --hub,
 * buffering while the hub is away.
 */
import { startNode } from '@fieldlink/device';
import { nodeOptions } from '../config/options.js';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../log.js';
import { onShutdown } from './signals.js';

export async function runNode(argv: string[]): Promise<void> {
  const warnings: string[] = [];
  const cfg = loadConfig(nodeOptions, argv, (m) => warnings.push(m));
  const log = createLogger(cfg.logLevel, 'fieldlink-node');
  for (const w of warnings) log.warn(w);
  const ready = onShutdown(log, cfg.shutdownTimeoutMs);
  const node = await startNode({
    ...(cfg.id ? { id: cfg.id } : {}),
    ...(cfg.i2cBus >= 0 ? { i2cBus: cfg.i2cBus } : {}),
    light: cfg.light,
    latitude: cfg.latitude,
    longitude: cfg.longitude,
    resolution: cfg.resolution as 'datasheet-1.7' | 'legacy-0.0036',
    intervalMs: cfg.intervalMs,
    host: cfg.host,
    port: cfg.port,
    ...(cfg.hub ? { hub: cfg.hub } : {}),
    ...(cfg.secret ? { secret: cfg.secret } : {}),
    ...(cfg.bufferDir ? { bufferDir: cfg.bufferDir } : {}),
    bufferMax: cfg.bufferMax,
    onLog: (line) => log.info(line),
  });
  log.info({ id: node.id, url: node.url, hub: cfg.hub || null }, 'node running');
  process.stderr.write(
    `\nFieldlink sensor node ${node.id}\n  live page  ${node.url.replace('://127.0.0.1:', '://localhost:')}\n` +
      `  sensor     ${cfg.i2cBus >= 0 ? `VEML7700 on /dev/i2c-${cfg.i2cBus}` : `emulated VEML7700 (${cfg.light})`}\n` +
      `  hub        ${cfg.hub || 'none (standalone)'}\n  Ctrl-C stops it.\n\n`,
  );
  ready(() => node.stop());
}
