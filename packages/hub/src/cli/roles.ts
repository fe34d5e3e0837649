/**
 * The table of process roles in one binary (the outline habit): each role has
 * a summary, its options (one typed definition, see config/options.ts) and a run
 * function. Adding a role is a module plus a row here.
 */
import type { OptionSet } from '../config/schema.js';
import { adminOptions, certOptions, hubOptions, nodeOptions, simOptions } from '../config/options.js';

export interface Role {
  summary: string;
  usage: string;
  options?: OptionSet;
  run(argv: string[]): Promise<number | void>;
}

export const roles: Record<string, Role> = {
  hub: {
    summary: 'Run the hub: MQTT broker, WebSocket doors (/ws, /ws/device, /mqtt), HTTP API, store and dashboard.',
    usage: 'fieldlink hub [options]',
    options: hubOptions,
    run: async (argv) => (await import('./hub.js')).runHub(argv),
  },
  node: {
    summary: 'Run a sensor node: read a VEML7700 (real or emulated), serve its own live page, publish to a hub with --hub.',
    usage: 'fieldlink node [options]',
    options: nodeOptions,
    run: async (argv) => (await import('./node.js')).runNode(argv),
  },
  sim: {
    summary: 'Simulate N VEML7700 light sensors as real MQTT or WebSocket clients of a hub.',
    usage: 'fieldlink sim --url mqtt://127.0.0.1:1883 --devices 100 [options]',
    options: simOptions,
    run: async (argv) => (await import('./sim.js')).runSim(argv),
  },
  device: {
    summary: 'Manage device credentials: add <id> (prints a new secret once), rotate <id>, remove <id>, list.',
    usage: 'fieldlink device add|rotate|remove <id> | list [--data-dir … | --store …]',
    options: adminOptions,
    run: async (argv) => { const a = await import('./admin.js'); return a.runAdmin(a.deviceCmds, 'device', argv); },
  },
  user: {
    summary: 'Manage dashboard users: add <name> [--role viewer|operator|admin], passwd <name>, remove <name>, list.',
    usage: 'fieldlink user add|passwd|remove <name> | list [--role …] [--password-stdin]',
    options: adminOptions,
    run: async (argv) => { const a = await import('./admin.js'); return a.runAdmin(a.userCmds, 'user', argv); },
  },
  token: {
    summary: 'Manage API tokens: create [--role …] [--device id] [--expires 30d] [--name …] (printed once), list, revoke <id>.',
    usage: 'fieldlink token create|list|revoke <id> [options]',
    options: adminOptions,
    run: async (argv) => { const a = await import('./admin.js'); return a.runAdmin(a.tokenCmds, 'token', argv); },
  },
  link: {
    summary: 'Hub-to-hub links (docs/link.md): on central, `site add <id>` prints a site token once, `site revoke <id>`, `site list`; on either end, `status` shows lanes, queues, marks and gaps.',
    usage: 'fieldlink link site add|revoke <id> | link site list | link status [--data-dir … | --store …]',
    options: adminOptions,
    run: async (argv) => (await import('./link.js')).runLink(argv),
  },
  cert: {
    summary: 'TLS helpers: `fieldlink cert dev [--out dir] [--hosts a,b]` writes a self-signed CA, a server certificate for a LAN and a device certificate.',
    usage: 'fieldlink cert dev [--out ./certs] [--hosts raspberrypi.local,192.168.1.10] [--device sensor-1]',
    options: certOptions,
    run: async (argv) => (await import('./cert.js')).runCert(argv),
  },
  config: {
    summary: 'Show configuration: `fieldlink config defaults [role]` prints every option with its default (YAML); `fieldlink config docs` prints docs/configuration.md; `fieldlink config errors` prints docs/errors.md; `fieldlink config mqtt` prints docs/mqtt.md.',
    usage: 'fieldlink config defaults [role] | docs | errors | mqtt',
    run: async (argv) => (await import('./config.js')).runConfig(argv),
  },
};
