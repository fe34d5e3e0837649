/**
 * The hub as a real child process (`fieldlink hub` from source), for restart
 * tests: start on free ports, stop it cleanly (SIGTERM) or with SIGKILL, read
 * its /metrics. Each child is stopped by its own PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

export interface HubProcess {
  child: ChildProcess;
  url: string;
  mqttPort: number;
  out(): string;
}

export async function startHubProcess(args: string[]): Promise<HubProcess> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, 'hub', '--port', '0', '--mqtt-port', '-1', '--mqtt-engine', 'core', '--log-level', 'info', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const started = await new Promise<{ url: string; mqttPort: number }>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`hub did not start:\n${out}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"url":"(http:\/\/[^"]+)","mqttPort":(\d+).*"msg":"hub listening"/.exec(out);
      if (m) { clearTimeout(t); resolve({ url: m[1]!, mqttPort: Number(m[2]) }); }
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code, signal) => { clearTimeout(t); reject(new Error(`hub exited (${code ?? signal}) before listening:\n${out}`)); });
  });
  return { child, ...started, out: () => out };
}

const exited = (c: ChildProcess): Promise<void> =>
  c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', () => r()));

/** SIGTERM: the hub's clean shutdown (flushes its store). Resolves with the exit code. */
export async function stopHub(h: HubProcess): Promise<number | null> {
  h.child.kill('SIGTERM');
  await exited(h.child);
  return h.child.exitCode;
}

export async function killHub(h: HubProcess): Promise<void> {
  h.child.kill('SIGKILL');
  await exited(h.child);
}

/** One sample of the hub's /metrics, e.g. metric(h, 'fieldlink_mqtt_state', 'counter="pending"'). */
export async function metric(h: HubProcess, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${h.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  if (!line) throw new Error(`no ${name}{${labels}} in /metrics`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Waits until every engine state record made so far is committed (what an ack-after-commit hub waits for). */
export async function committed(h: HubProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await metric(h, 'fieldlink_mqtt_state', 'counter="pending"')) !== 0) {
    if (Date.now() > deadline) throw new Error('engine state not committed within 10 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}
