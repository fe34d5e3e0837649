/**
 * The demo's simulated sensors: real MQTT clients of the hub's own TCP port (or
 * of /ws/device when MQTT over TCP is disabled), each reading an emulated
 * VEML7700 through the real driver (packages/device). The simulated room follows
 * this machine's clock: its time zone's longitude puts the evening lamps in the
 * user's evening, not in UTC's.
 *
 * When the hub's anonymous role is not admin (e.g. `--anonymous none`), the
 * simulated devices authenticate like any device: each `sim-<n>` gets a device
 * identity in the hub's identity store with a fresh secret (created, or rotated
 * on each start, which ends connections made with an old one), handed only to
 * the in-process simulator; username and client id are the device id.
 * Nothing is exempt from authentication.
 */
import { startFleet, type Fleet } from '@fieldlink/device';
import type { HubConfig } from '../config/options.js';
import { ConfigError } from '../config/schema.js';
import { anonymousRole } from '../auth/index.js';
import { fastHash, generateSecret } from '../auth/secrets.js';
import { openIdentities } from '../storage/index.js';
import type { Hub } from '../hub.js';
import type { Logger } from '../log.js';

export const SIM_PREFIX = 'sim-';

/** Device identities for sim-1..sim-count in the hub's store; returns id → secret (shown nowhere). */
async function provision(cfg: HubConfig, count: number): Promise<Map<string, string>> {
  const ids = openIdentities({ url: cfg.store === 'sqlite' ? undefined : cfg.store, dataDir: cfg.dataDir });
  try {
    const secrets = new Map<string, string>();
    for (let n = 1; n <= count; n++) {
      const id = `${SIM_PREFIX}${n}`;
      const secret = generateSecret();
      const old = await ids.getDevice(id);
      await ids.putDevice({ id, secretHash: fastHash(secret), createdAt: old?.createdAt ?? Date.now() });
      secrets.set(id, secret);
    }
    return secrets;
  } finally {
    await ids.close();
  }
}

export async function startSimulation(hub: Hub, cfg: HubConfig, log: Logger): Promise<Fleet> {
  const count = cfg.simulate;
  const url = hub.mqttPort >= 0 ? `mqtt://127.0.0.1:${hub.mqttPort}` : `${hub.url.replace('http', 'ws')}/ws/device`;
  const longitude = -new Date().getTimezoneOffset() / 4; // minutes east of UTC → degrees
  let secrets: Map<string, string> | undefined;
  // The hub's own anonymous role (it started, so the configuration is valid): only an
  // exposed --host without --allow-anonymous consults the store, and then it is null.
  const anon = await anonymousRole(cfg, undefined).catch(() => null);
  if (anon !== 'admin') {
    if (cfg.store === 'none') throw new ConfigError('--simulate with authentication required (--anonymous other than admin) needs a store for the simulated devices\' identities: drop --store none');
    secrets = await provision(cfg, count);
    log.info({ devices: count }, 'simulated devices authenticate with their own device identities');
  }
  return startFleet({ url, count, idPrefix: SIM_PREFIX, intervalMs: cfg.simulateIntervalMs, light: 'indoor', longitude, ...(secrets ? { secrets } : {}), onLog: (line) => log.info({ sim: true }, line) });
}
