/**
 * The servers under comparison, each started in its own process on loopback
 * ports and stopped by PID: Mosquitto (Debian's binary with a generated config,
 * never the system service), a bare Aedes broker, the bare `ws` broadcast
 * ceiling, the fan-in floor (a bare `net` server forwarding device bytes to MQTT
 * over WebSocket subscribers), Fieldlink's MQTT engine alone (trivial hooks), and the Fieldlink hub (its JSON `/ws` door, its MQTT `/mqtt` door, and
 * with SQLite ingest, and on an external broker). Publishers always use
 * MQTT/TCP; `sub()` says how a subscriber reaches the server.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { freePort, startServer, type Server } from './proc.js';
import type { SubTarget } from '../gen/subscriber.js';

export type TargetName = 'mosquitto' | 'aedes' | 'ws-bcast' | 'ws-bcast-cork' | 'floor' | 'fieldlink-engine'
  | 'fieldlink' | 'fieldlink-mqtt' | 'fieldlink-sqlite' | 'fieldlink-cluster';

export interface Running {
  readonly name: TargetName;
  readonly server: Server;
  /** Processes whose CPU and memory count as the server's: its own, plus a broker it depends on. */
  readonly pids: readonly number[];
  readonly mqttPort: number;
  sub(filter: string): SubTarget;
  stop(): Promise<void>;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MOSQUITTO = '/usr/sbin/mosquitto';
const TS = ['--conditions=source', '--import', 'tsx'];

export function mosquittoVersion(): string {
  try {
    return /version (\S+)/.exec(execFileSync(MOSQUITTO, ['-h'], { encoding: 'utf8' }).toString())?.[1] ?? '?';
  } catch (e) {
    return /version (\S+)/.exec(String((e as { stdout?: string }).stdout))?.[1] ?? 'not found';
  }
}

const portOpen = (port: number) => new Promise<boolean>((r) => {
  const s = net.connect(port, '127.0.0.1');
  s.once('connect', () => { s.destroy(); r(true); });
  s.once('error', () => r(false));
});

async function mosquitto(): Promise<Running> {
  const [mqttPort, wsPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'fl-bench-mosq-'));
  const conf = join(dir, 'mosquitto.conf');
  // QoS 0 to online clients still counts against max_queued_messages in 2.0: large, so fan-out never drops there.
  // set_tcp_nodelay: Node servers disable Nagle too; without it Mosquitto's latency would measure Nagle.
  // Note: 2.0.11 binds the websockets listener on all interfaces whatever the address says (libwebsockets).
  writeFileSync(conf, [
    'per_listener_settings false', 'allow_anonymous true', 'persistence false',
    'max_queued_messages 10000000', 'max_queued_bytes 0', ...(process.env.BENCH_MOSQ_NODELAY ? ['set_tcp_nodelay true'] : []),
    'log_dest stderr', 'log_type error', 'log_type warning',
    `listener ${mqttPort} 127.0.0.1`, `listener ${wsPort} 127.0.0.1`, 'protocol websockets', '',
  ].join('\n'));
  const server = await startServer('mosquitto', MOSQUITTO, ['-c', conf], () => undefined, {
    probe: async () => (await portOpen(mqttPort)) && (await portOpen(wsPort)),
  });
  return {
    name: 'mosquitto', server, pids: [server.pid], mqttPort,
    sub: (filter) => ({ dialect: 'mqtt', port: wsPort, path: '/mqtt', filter }),
    stop: async () => { await server.stop(); rmSync(dir, { recursive: true, force: true }); },
  };
}

const readyJson = (line: string) => {
  if (!line.startsWith('{')) return undefined;
  try {
    const j = JSON.parse(line) as Record<string, unknown>;
    return j.ready === true || j.msg === 'hub listening' ? j : undefined;
  } catch {
    return undefined;
  }
};

const SERVER_FILE = { aedes: 'aedes.ts', 'ws-bcast': 'ws-broadcast.ts', 'ws-bcast-cork': 'ws-broadcast.ts', floor: 'floor.ts', 'fieldlink-engine': 'engine.ts' } as const;

async function nodeServer(name: keyof typeof SERVER_FILE, nodeArgs: string[] = []): Promise<Running> {
  const file = join(ROOT, 'bench/servers', SERVER_FILE[name]);
  const server = await startServer(name, process.execPath, [...nodeArgs, ...TS, file, ...(name === 'ws-bcast-cork' ? ['--cork'] : [])], readyJson, { cwd: ROOT });
  const wsPort = server.info.wsPort as number;
  const raw = name === 'ws-bcast' || name === 'ws-bcast-cork';
  return {
    name, server, pids: [server.pid], mqttPort: server.info.mqttPort as number,
    sub: (filter) => (raw ? { dialect: 'raw', port: wsPort, path: '/', filter } : { dialect: 'mqtt', port: wsPort, path: '/mqtt', filter }),
    stop: () => server.stop(),
  };
}

/**
 * Limits a load test from one IP would trip (per-client publish rate, connections
 * per IP), lifted if this version of the hub has them: read from `hub --help`
 * so the bench runs on any revision of the tree.
 */
let limitArgs: string[] | undefined;
function hubLimitArgs(): string[] {
  if (limitArgs) return limitArgs;
  const help = execFileSync(process.execPath, [...TS, join(ROOT, 'packages/hub/src/cli/main.ts'), 'hub', '--help'], { cwd: ROOT, encoding: 'utf8' });
  const wanted: [string, string][] = [['--publish-rate', '0'], ['--max-connections', '1000000'], ['--max-connections-per-ip', '1000000'], ['--max-subscriptions', '100']];
  limitArgs = wanted.filter(([flag]) => new RegExp(`${flag}\\b(?!-)`).test(help)).flat();
  return limitArgs;
}

/**
 * The hub from source, as `fieldlink hub` runs it; `nodeArgs` e.g. `--cpu-prof`.
 * `fieldlink-cluster`: the hub on an external bus (`--bus`), a Mosquitto of its
 * own started with the same settings as the `mosquitto` target; publishers talk to
 * that broker, subscribers to the hub's /ws, and both processes count as the server.
 */
async function fieldlink(name: 'fieldlink' | 'fieldlink-mqtt' | 'fieldlink-sqlite' | 'fieldlink-cluster', nodeArgs: string[]): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'fl-bench-hub-'));
  const store = name === 'fieldlink-sqlite' ? `sqlite:${join(dir, 'bench.db')}` : 'none';
  const broker = name === 'fieldlink-cluster' ? await mosquitto() : undefined;
  const args = [...nodeArgs, ...TS, join(ROOT, 'packages/hub/src/cli/main.ts'), 'hub', '--port', '0', '--mqtt-port', '-1',
    '--store', store, '--data-dir', dir, '--log-level', 'info', ...hubLimitArgs(),
    ...(broker ? ['--bus', `mqtt://127.0.0.1:${broker.mqttPort}`] : [])];
  const server = await startServer(name, process.execPath, args, readyJson, { cwd: ROOT, timeoutMs: 30_000 });
  const port = Number(new URL(server.info.url as string).port);
  return {
    name, server, pids: broker ? [server.pid, broker.server.pid] : [server.pid],
    mqttPort: broker ? broker.mqttPort : server.info.mqttPort as number,
    sub: (filter) => (name === 'fieldlink-mqtt' ? { dialect: 'mqtt', port, path: '/mqtt', filter } : { dialect: 'fl', port, path: '/ws', filter }),
    stop: async () => { await server.stop(); await broker?.stop(); rmSync(dir, { recursive: true, force: true }); },
  };
}

export function startTarget(name: TargetName, nodeArgs: string[] = []): Promise<Running> {
  if (name === 'mosquitto') return mosquitto();
  if (name === 'aedes' || name === 'ws-bcast' || name === 'ws-bcast-cork' || name === 'floor' || name === 'fieldlink-engine') return nodeServer(name, nodeArgs);
  return fieldlink(name, nodeArgs);
}
