/**
 * Brokers the Paho suites run against, each in its own process on free loopback
 * ports, stopped by PID: the Fieldlink hub from source, Debian's Mosquitto with a
 * temporary config, and bare Aedes 1.2 (bench/servers/aedes.ts). Fieldlink and
 * Mosquitto get the same access rule the suites' test_subscribe_failure needs:
 * everything allowed to anonymous clients except SUBSCRIBE to test/nosubscribe.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startServer } from '../lib/proc.js';
import { mosquittoVersion } from '../lib/targets.js';

export type Target = 'fieldlink' | 'mosquitto' | 'aedes';

export interface Broker {
  readonly mqttPort: number;
  /** The MQTT-over-WebSocket door. */
  readonly wsUrl: string;
  readonly version: string;
  stop(): Promise<void>;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TS = ['--conditions=source', '--import', 'tsx'];

/** Issue 12 item 5: this file must work as is with --acl-file. */
export const ISSUE_ACL = `- role: admin
  allow: [publish, subscribe, read, call, admin]
  topics: ["#"]
- role: admin
  deny: [subscribe]
  topics: ["test/nosubscribe"]
`;

const portOpen = (port: number) =>
  new Promise<boolean>((r) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), r(true)));
    s.once('error', () => r(false));
  });

const readyJson = (line: string) => {
  if (!line.startsWith('{')) return undefined;
  try {
    const j = JSON.parse(line) as Record<string, unknown>;
    return j.ready === true || j.msg === 'hub listening' ? j : undefined;
  } catch {
    return undefined;
  }
};

export interface BrokerOptions {
  dir: string;
  engine?: string;
  profile: string;
  aclFile?: string;
}

export async function startBroker(target: Target, o: BrokerOptions): Promise<Broker> {
  if (target === 'mosquitto') {
    const [mqttPort, wsPort] = [await freePort(), await freePort()];
    const acl = join(o.dir, 'acl');
    chmodSync(o.dir, 0o755); // started as root, Mosquitto reads its acl_file as user mosquitto
    // Anonymous clients get the acl_file's general section; `deny` wins over the grant, as in the hub's file.
    writeFileSync(acl, 'topic readwrite #\ntopic readwrite $SYS/#\ntopic deny test/nosubscribe\n');
    const conf = join(o.dir, 'mosquitto.conf');
    writeFileSync(conf, ['per_listener_settings false', 'allow_anonymous true', 'persistence false', `acl_file ${acl}`,
      'set_tcp_nodelay true', 'log_dest stderr', 'log_type error',
      `listener ${mqttPort} 127.0.0.1`, `listener ${wsPort} 127.0.0.1`, 'protocol websockets', ''].join('\n'));
    const server = await startServer('mosquitto', '/usr/sbin/mosquitto', ['-c', conf], () => undefined, {
      probe: async () => (await portOpen(mqttPort)) && (await portOpen(wsPort)),
    });
    return { mqttPort, wsUrl: `ws://127.0.0.1:${wsPort}/mqtt`, version: `Mosquitto ${mosquittoVersion()}`, stop: () => server.stop() };
  }
  if (target === 'aedes') {
    const server = await startServer('aedes', process.execPath, [...TS, join(ROOT, 'bench/servers/aedes.ts')], readyJson, { cwd: ROOT });
    return { mqttPort: server.info.mqttPort as number, wsUrl: `ws://127.0.0.1:${server.info.wsPort as number}/mqtt`, version: 'bare Aedes 1.2 (no access rules)', stop: () => server.stop() };
  }
  const aclFile = o.aclFile ?? join(o.dir, 'acl.yaml');
  if (!o.aclFile) writeFileSync(aclFile, ISSUE_ACL);
  const args = [...TS, join(ROOT, 'packages/hub/src/cli/main.ts'), 'hub', '--port', '0', '--mqtt-port', '-1', '--store', 'none',
    '--data-dir', o.dir, '--anonymous', 'admin', '--acl-file', aclFile, '--log-level', 'info',
    ...(o.engine ? ['--mqtt-engine', o.engine] : []), ...(hasOption('--mqtt-profile') ? ['--mqtt-profile', o.profile] : [])];
  const server = await startServer('fieldlink', process.execPath, args, readyJson, { cwd: ROOT, timeoutMs: 30_000 });
  const url = new URL(server.info.url as string);
  const engine = o.engine ?? (hasOption('--mqtt-engine') ? 'default engine' : 'aedes');
  return {
    mqttPort: server.info.mqttPort as number,
    wsUrl: `ws://${url.host}/mqtt`,
    version: `Fieldlink hub (${engine}${hasOption('--mqtt-profile') ? `, --mqtt-profile ${o.profile}` : ''})`,
    stop: () => server.stop(),
  };
}

let help: string | undefined;
/** Whether this revision of the hub has an option (read from `hub --help`, so the runner works on older trees). */
function hasOption(flag: string): boolean {
  help ??= execFileSync(process.execPath, [...TS, join(ROOT, 'packages/hub/src/cli/main.ts'), 'hub', '--help'], { cwd: ROOT, encoding: 'utf8' });
  return new RegExp(`${flag}\\b(?!-)`).test(help);
}
