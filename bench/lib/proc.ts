/**
 * Server processes for the benchmarks: free loopback ports, spawning with a
 * readiness line, CPU and RSS from /proc, and stopping by PID (never by name).
 *
 * CPU is utime+stime of the one process (all its threads), in microseconds; RSS
 * is VmRSS. Both are read before and after each phase, so a phase's cost is the
 * difference and includes nothing the generator does.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';

const PROBED = '\u0000probed'; // not a line any process prints
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** A port that was free a moment ago on 127.0.0.1 (bind port 0, read it, release it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface ProcSample { cpuUs: number; rssKb: number }

/** utime+stime (µs) and VmRSS (kB) of `pid`; fields after the `(comm)` field, which may hold spaces. */
export function sample(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]); // fields 14 and 15 of proc(5), counted from field 3
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+)/.exec(status);
  return { cpuUs: (ticks * 1e6) / CLK_TCK, rssKb: m ? Number(m[1]) : 0 };
}

/** Several processes counted as one server (a hub and the broker it uses as its bus). */
export function sampleAll(pids: readonly number[]): ProcSample {
  let cpuUs = 0, rssKb = 0;
  for (const p of pids) {
    const s = sample(p);
    cpuUs += s.cpuUs;
    rssKb += s.rssKb;
  }
  return { cpuUs, rssKb };
}

export interface Server {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Whatever the readiness parser extracted (ports, URL). */
  readonly info: Record<string, unknown>;
  stop(): Promise<void>;
}

/**
 * Spawn `cmd args` and resolve once `ready(line)` returns info for a line of its
 * stdout/stderr, or once `opts.probe()` (polled) says yes, for servers that print
 * nothing when ready; rejects after `timeoutMs` or if the process exits first.
 */
export function startServer(
  name: string, cmd: string, args: string[],
  ready: (line: string) => Record<string, unknown> | undefined,
  opts: { timeoutMs?: number; cwd?: string; probe?: () => Promise<boolean> } = {},
): Promise<Server> {
  const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let log = '';
    let done = false;
    const timer = setTimeout(() => fail(new Error(`${name} not ready after ${opts.timeoutMs ?? 20_000} ms:\n${log.slice(-2000)}`)), opts.timeoutMs ?? 20_000);
    const fail = (err: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (child.pid) stopPid(child);
      reject(err);
    };
    const onLine = (line: string) => {
      if (done) return;
      const info = ready(line);
      if (!info) return;
      done = true;
      clearTimeout(timer);
      resolve({ name, pid: child.pid!, child, info, stop: () => stopPid(child) });
    };
    for (const s of [child.stdout!, child.stderr!]) {
      let part = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => {
        log += d;
        if (log.length > 20_000) log = log.slice(-10_000);
        const lines = (part + d).split('\n');
        part = lines.pop() ?? '';
        for (const l of lines) onLine(l);
      });
    }
    const probe = opts.probe;
    if (probe) {
      const poll = () => void probe().then((ok) => (ok ? onLine(PROBED) : !done && setTimeout(poll, 50)));
      ready = (line) => (line === PROBED ? {} : undefined);
      setTimeout(poll, 50);
    }
    child.once('exit', (code, sig) => fail(new Error(`${name} exited (${code ?? sig}) before ready:\n${log.slice(-2000)}`)));
    child.once('error', fail);
  });
}

/** SIGINT (graceful: lets `--cpu-prof` write its file), then SIGKILL after 10 s, by this child's PID only. */
export function stopPid(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGINT');
  });
}
