/** Site and central hubs as real child processes with their own data directories (as test/e2e/demo.test.ts spawns them). */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const NODE = [process.execPath, '--conditions=source', '--import', 'tsx', MAIN] as const;

/** Short liveness timers so CI stays short; the defaults are 15 s / 45 s / 30 s. */
export const FAST = ['--link-ping-ms', '200', '--link-dead-ms', '2000', '--link-ack-timeout-ms', '2000', '--link-backoff-base-ms', '50', '--link-backoff-max-ms', '400', '--link-bound-every-ms', '200'];

export interface HubProc { child: ChildProcess; url: string; port: number; mqttPort: number; out(): string; exited: Promise<number | null> }

export async function startHubProc(dataDir: string, args: string[]): Promise<HubProc> {
  const child = spawn(NODE[0], [...NODE.slice(1), 'hub', '--data-dir', dataDir, '--log-level', 'info', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const m = await new Promise<RegExpExecArray>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`hub did not start:\n${out.slice(-3000)}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const hit = /"url":"(http:\/\/[^"]+)","mqttPort":(-?\d+).*"msg":"hub listening"/.exec(out);
      if (hit) { clearTimeout(t); resolve(hit); }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    void exited.then((code) => { clearTimeout(t); reject(new Error(`hub exited with ${code}:\n${out.slice(-3000)}`)); });
  });
  return { child, url: m[1]!, port: Number(new URL(m[1]!).port), mqttPort: Number(m[2]), out: () => out, exited };
}

export async function stopHubProc(h: HubProc, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (h.child.exitCode !== null || h.child.signalCode !== null) return h.child.exitCode;
  h.child.kill(signal);
  return h.exited;
}

/** `fieldlink link site add <site>` against a data directory: the token it prints once. */
export function addSite(dataDir: string, site: string): string {
  const r = spawnSync(NODE[0], [...NODE.slice(1), 'link', 'site', 'add', site, '--data-dir', dataDir, '--json'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`link site add failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { token: string }).token;
}

export function linkStatus(dataDir: string): { site: { lanes: { lane: string; queued: number }[] }; central: { site: string; marks: Record<string, { seq: number }>; events: { kind: string; reason: string; count: number; fromSeq: number; toSeq: number; detail: string }[] }[] } {
  const r = spawnSync(NODE[0], [...NODE.slice(1), 'link', 'status', '--data-dir', dataDir, '--json'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`link status failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as ReturnType<typeof linkStatus>;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until(what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
