/**
 * Store benchmarks, printed as Markdown tables:
 *  1. ingest points/s through the real path: embedded bus → ingest (group commit) → store,
 *     with the event-loop delay measured meanwhile (p99/max of perf_hooks.monitorEventLoopDelay).
 *     A warm-up of `--warmup` points (default 50,000; JIT, worker start) runs first and is
 *     not measured;
 *  2. history latency over one series of N points (default 10M over 1,000 h) aggregated
 *     into 1,000 buckets of 1 h (rollups) — cold (fresh connection) and warm (median) —
 *     against the raw-scan path for comparison, and `count` (used by auto bucket).
 * Run: node --conditions=source --import tsx bench/store-ingest.ts [--ingest 1000000] [--warmup 50000] [--query 10000000] [--no-pg] [--no-query]
 * PostgreSQL: FIELDLINK_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test), in a throwaway schema.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { createBus } from '../packages/hub/src/bus/index.js';
import { openStore } from '../packages/hub/src/storage/index.js';
import type { StoreOptions } from '../packages/hub/src/storage/index.js';
import type { Store } from '../packages/hub/src/storage/types.js';
import { startIngest } from '../packages/hub/src/services/ingest.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const INGEST_POINTS = arg('--ingest', 1_000_000);
const WARMUP_POINTS = arg('--warmup', 50_000);
const QUERY_POINTS = arg('--query', 10_000_000);
const PG_URL = process.env.FIELDLINK_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const H = 3_600_000;
const METRICS = 20, DEVICES = 100;

async function ingestBench(real: Store) {
  const bus = await createBus({ kind: 'embedded' });
  const writes: number[] = []; // latency of each store.append (queueing + commit; the loop is not blocked meanwhile)
  const store = new Proxy(real, {
    get: (t, k) => (k === 'append' ? async (p: Parameters<Store['append']>[0]) => {
      const s = performance.now();
      await t.append(p);
      writes.push(performance.now() - s);
    } : Reflect.get(t, k)),
  });
  const ingest = await startIngest(bus, store, {});
  const names = Array.from({ length: METRICS }, (_, i) => `m${i}`);
  const base = Date.now() - H;
  let i = 0;
  const publish = async (messages: number) => {
    for (const end = i + messages; i < end; i++) {
      const body: Record<string, number> = { ts: base + Math.floor(i / DEVICES) * 5 };
      for (const n of names) body[n] = (i * 31) % 1000 / 10;
      void bus.publish(`devices/dev${i % DEVICES}/telemetry`, JSON.stringify(body));
      // The devices' pace: publishers pause when the hub's queue is half full (no drops in a throughput run).
      if (i % 250 === 0) {
        await new Promise((r) => setImmediate(r)); // a publisher burst is at most 5,000 points, then the loop turns
        while (ingest.stats().queued > 50_000) await new Promise((r) => setTimeout(r, 1)); // wait, not spin: the store needs the CPU
      }
    }
  };
  await publish(Math.ceil(WARMUP_POINTS / METRICS));
  await ingest.flush();
  const warm = ingest.stats();
  writes.length = 0;
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const idle = idleProbe();
  const t0 = performance.now();
  await publish(Math.ceil(INGEST_POINTS / METRICS));
  await new Promise((r) => setImmediate(r));
  await ingest.flush();
  const secs = (performance.now() - t0) / 1000;
  loop.disable();
  const idleP99 = await idle();
  const end = ingest.stats();
  const s = { ...end, written: end.written - warm.written, batches: end.batches - warm.batches, dropped: end.dropped - warm.dropped };
  await ingest.stop();
  await bus.close();
  writes.sort((a, b) => a - b);
  return { idleP99, rate: s.written / secs, written: s.written, dropped: s.dropped, batches: s.batches, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6,
    pts: s.written / s.batches, wMed: writes[writes.length >> 1] ?? 0, wMax: writes.at(-1) ?? 0 };
}

/**
 * Control for the loop-delay column: the same histogram in a thread that does nothing.
 * On a shared 2-core machine its p99 is the OS scheduling delay that the hub's
 * p99 includes too; the difference is what the hub's own work adds.
 */
function idleProbe(): () => Promise<number> {
  const w = new Worker(`const { parentPort } = require('node:worker_threads'); const { monitorEventLoopDelay } = require('node:perf_hooks');
    const h = monitorEventLoopDelay({ resolution: 5 }); h.enable();
    parentPort.once('message', () => { h.disable(); parentPort.postMessage(h.percentile(99) / 1e6); });`, { eval: true });
  return async () => {
    const p = new Promise<number>((r) => w.once('message', r));
    w.postMessage('stop');
    const v = await p;
    await w.terminate();
    return v;
  };
}

async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function queryBench(open: () => Promise<Store>) {
  const store = await open();
  const from = Date.UTC(2025, 0, 1), step = (1000 * H) / QUERY_POINTS;
  const t0 = performance.now();
  for (let i = 0; i < QUERY_POINTS; i += 50_000) {
    const n = Math.min(50_000, QUERY_POINTS - i);
    await store.append(Array.from({ length: n }, (_, k) => ({ device: 'big', metric: 'lux', ts: from + Math.floor((i + k) * step), value: ((i + k) * 7) % 1000 })));
  }
  const loadRate = QUERY_POINTS / ((performance.now() - t0) / 1000);
  await store.close();
  const q = { device: 'big', metric: 'lux', from, to: from + 1000 * H - 1, limit: 1000, bucketMs: H };
  const s = await open(); // fresh connection: "cold" for the process (the OS page cache stays warm)
  const cold = await timeIt(() => s.buckets(q));
  const warm: number[] = [];
  for (let i = 0; i < 15; i++) warm.push(await timeIt(() => s.buckets(q)));
  warm.sort((a, b) => a - b);
  const buckets = (await s.buckets(q)).length;
  const count = await timeIt(() => s.count(q));
  const rawScan = await timeIt(() => s.buckets({ ...q, bucketMs: H + 1 })); // not a multiple of 1 h: raw path
  await s.close();
  return { loadRate, cold, warm: warm[7]!, buckets, count, rawScan };
}

const rows: string[][] = [];
const qrows: string[][] = [];
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const backends: [string, () => Promise<{ opts: StoreOptions; cleanup: () => Promise<void> }>][] = [
  ['SQLite', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fl-bench-'));
    return { opts: { dataDir: dir }, cleanup: () => rm(dir, { recursive: true, force: true }) };
  }],
];
if (!process.argv.includes('--no-pg')) backends.push(['PostgreSQL', async () => {
  const schema = `fl_bench_${randomBytes(4).toString('hex')}`;
  return {
    opts: { url: PG_URL, schema },
    cleanup: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await c.end();
    },
  };
}]);

for (const [name, make] of backends) {
  for (const part of process.argv.includes('--no-query') ? ['ingest' as const] : ['ingest', 'query'] as const) {
    const env = await make();
    try {
      if (part === 'ingest') {
        const store = await openStore(env.opts);
        const r = await ingestBench(store);
        await store.close();
        rows.push([name, fmt(r.written), fmt(r.rate), fmt(r.batches), fmt(r.pts), r.wMed.toFixed(1), r.wMax.toFixed(1), fmt(r.dropped), r.p99.toFixed(1), r.max.toFixed(1), r.idleP99.toFixed(1)]);
      } else {
        const r = await queryBench(() => openStore(env.opts));
        qrows.push([name, fmt(QUERY_POINTS), fmt(r.loadRate), String(r.buckets), r.cold.toFixed(1), r.warm.toFixed(1), r.count.toFixed(1), r.rawScan.toFixed(0)]);
      }
    } finally {
      await env.cleanup();
    }
    console.error(`done: ${name} ${part}`);
  }
}

const table = (head: string[], body: string[][]) =>
  [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n');
console.log(`\n### Ingest through bus → ingest → store (${METRICS} metrics/message, ${DEVICES} devices, default batching, after ${fmt(WARMUP_POINTS)} points warm-up)\n`);
console.log(table(['backend', 'points', 'points/s', 'batches', 'points/batch', 'append latency median ms', 'append latency max ms', 'dropped', 'loop delay p99 ms', 'loop delay max ms', 'idle-thread p99 ms (control)'], rows));
console.log(`\n### History over one series, 1,000 buckets of 1 h\n`);
console.log(table(['backend', 'points', 'load points/s (append 50k)', 'buckets', 'cold ms', 'warm median ms', 'count ms', 'raw-scan buckets ms'], qrows));
