/**
 * One measured phase: reset the generators' counters, sample the server and the
 * generators from /proc, run the load, wait for the drain, sample again. The
 * result is one table row. Loss = published × subscribers − delivered, read
 * after the drain (deliveries stopped growing for 1 s, or all arrived).
 */
import os from 'node:os';
import { sample, sampleAll } from './proc.js';
import { Hist } from './hist.js';
import { nowMs } from '../gen/subscriber.js';
import type { Worker } from './workers.js';
import type { WorkerStats } from '../gen/worker.js';
import type { Running } from './targets.js';

export interface Row {
  scenario: string;
  target: string;
  subscribers: number;
  published: number;
  delivered: number;
  seconds: number;
  msgPerSec: number;
  /** Server CPU (user+system) per delivered message, µs. */
  cpuUsPerMsg: number;
  serverCpuPct: number;
  p50: number;
  p99: number;
  p999: number;
  loss: number;
  rssMb: number;
  genCpuPct: number;
  load1: number;
  /** Scenario-specific figures (idle KB/conn, storm seconds, ingest counts). */
  extra?: Record<string, number | string>;
  /** The measured phase on the machine's monotonic clock (ms), so a CPU profile can be cut to it (bench/profile.ts). */
  phaseMs?: [number, number];
}

export interface Gen { sub: Worker; pub: Worker }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function stats(g: Gen): Promise<{ delivered: number; lastAt: number; hist: Hist }> {
  const all = await Promise.all([g.sub.call<WorkerStats>({ cmd: 'stats' }), g.pub.call<WorkerStats>({ cmd: 'stats' })]);
  const hist = new Hist();
  for (const s of all) hist.add(s.hist);
  return { delivered: all[0].delivered + all[1].delivered, lastAt: Math.max(all[0].lastAt, all[1].lastAt), hist };
}

/** Runs `load` (which returns the published count) and measures it as one row. */
export async function measure(
  scenario: string, t: Running, g: Gen, subscribers: number, load: () => Promise<number>,
): Promise<Row> {
  await Promise.all([g.sub.call({ cmd: 'reset' }), g.pub.call({ cmd: 'reset' })]);
  const s0 = sampleAll(t.pids);
  const g0 = sample(g.sub.pid).cpuUs + sample(g.pub.pid).cpuUs;
  const t0 = nowMs();
  const published = await load();
  const expected = published * subscribers;
  let st = await stats(g);
  for (let still = 0, last = -1; st.delivered < expected && still < 5 && nowMs() - t0 < 120_000; ) {
    await sleep(200);
    st = await stats(g);
    still = st.delivered === last ? still + 1 : 0;
    last = st.delivered;
  }
  const s1 = sampleAll(t.pids);
  const g1 = sample(g.sub.pid).cpuUs + sample(g.pub.pid).cpuUs;
  const wall = nowMs() - t0;
  const active = Math.max(1, (st.lastAt || nowMs()) - t0); // first publish to last delivery
  const cpu = s1.cpuUs - s0.cpuUs;
  return {
    scenario, target: t.name, subscribers, published, delivered: st.delivered,
    seconds: active / 1000,
    msgPerSec: st.delivered / (active / 1000),
    cpuUsPerMsg: st.delivered ? cpu / st.delivered : NaN,
    serverCpuPct: (cpu / 1000 / wall) * 100,
    p50: st.hist.percentileMs(50), p99: st.hist.percentileMs(99), p999: st.hist.percentileMs(99.9),
    loss: expected - st.delivered,
    rssMb: s1.rssKb / 1024,
    genCpuPct: ((g1 - g0) / 1000 / wall) * 100,
    load1: os.loadavg()[0]!,
    phaseMs: [t0, nowMs()],
  };
}

/** A row for scenarios that are not message flows (idle memory, connect storm). */
export function staticRow(scenario: string, t: Running, subscribers: number, extra: Record<string, number | string>, rssMb: number): Row {
  return {
    scenario, target: t.name, subscribers, published: 0, delivered: 0, seconds: 0, msgPerSec: NaN, cpuUsPerMsg: NaN,
    serverCpuPct: NaN, p50: NaN, p99: NaN, p999: NaN, loss: 0, rssMb, genCpuPct: NaN, load1: os.loadavg()[0]!, extra,
  };
}
