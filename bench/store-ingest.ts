/**
 * Store benchmarks, printed as Markdown tables:
 *  1. ingest points/s through the real path: embedded bus → ingest (group commit) → store,
 *     with the event-loop delay measured meanwhile (p99/max of perf_hooks.monitorEventLoopDelay).
 *     A warm-up of `--warmup` points (default 50,000; JIT, worker start) runs first and is
 *     not measured;
 *  2. history latency, 1,000 buckets of 1 h (rollups) over 1,000 h, on two data sets of
 *     the same size: one series of N points (default 10M), and D devices × N/D points
 *     (default 1,000 × 10,000, interleaved in time as a fleet writes them; 20 devices
 *     queried). Cold: a fresh connection after the OS page cache was dropped (when
 *     this runs as root; the table says so) — PostgreSQL's own shared buffers stay
 *     warm; warm: median of 15 repeats. Also `count` (used by auto bucket) and the
 *     raw-scan path (buckets that are not whole hours) for comparison.
 * Run: npm run bench:store -- [--ingest 1000000] [--warmup 50000] [--query 10000000] [--devices 1000] [--durability process|power] [--no-pg] [--no-query]
 * PostgreSQL: FIELDLINK_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test), in a throwaway schema.
 */
import { execSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import Database from 'better-sqlite3';
import { createBus } from '../packages/hub/src/bus/index.js';
import { openStore } from '../packages/hub/src/storage/index.js';
import type { StoreOptions } from '../packages/hub/src/storage/index.js';
import type { Store } from '../packages/hub/src/storage/types.js';
import { startIngest } from '../packages/hub/src/services/ingest.js';

if (process.argv.includes('--help')) {
  console.log(`npm run bench:store -- [options]   (tables on stdout, progress on stderr)
  --ingest N    points to ingest through bus → ingest → store (default 1,000,000)
  --warmup N    points ingested first, not measured (default 50,000)
  --query N     points per history data set (default 10,000,000)
  --devices D   series in the second data set, N/D points each (default 1,000)
  --durability  process (default: SQLite synchronous=NORMAL) or power (synchronous=FULL)
  --no-pg       SQLite only (PostgreSQL: FIELDLINK_BENCH_PG_URL, default ${'postgres://postgres@127.0.0.1:5432/test'})
  --no-query    ingest only`);
  process.exit(0);
}
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const INGEST_POINTS = arg('--ingest', 1_000_000);
const WARMUP_POINTS = arg('--warmup', 50_000);
const QUERY_POINTS = arg('--query', 10_000_000);
const QUERY_DEVICES = arg('--devices', 1000);
const DURABILITY = process.argv.includes('--durability') ? process.argv[process.argv.indexOf('--durability') + 1] as 'process' | 'power' : 'process';
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
  const t0 = performance.now(), cpu0 = process.cpuUsage();
  await publish(Math.ceil(INGEST_POINTS / METRICS));
  await new Promise((r) => setImmediate(r));
  await ingest.flush();
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  loop.disable();
  const idleP99 = await idle();
  const end = ingest.stats();
  const s = { ...end, written: end.written - warm.written, batches: end.batches - warm.batches, dropped: end.dropped - warm.dropped };
  await ingest.stop();
  await bus.close();
  writes.sort((a, b) => a - b);
  return { cpuUsPerPoint: (cpu.user + cpu.system) / Math.max(1, s.written), idleP99, rate: s.written / secs, written: s.written, dropped: s.dropped, batches: s.batches, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6,
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

/** Drops the OS page cache (root only). Returns whether it could. */
function dropPageCache(): boolean {
  try {
    execSync('sync');
    writeFileSync('/proc/sys/vm/drop_caches', '3');
    return true;
  } catch {
    return false;
  }
}

/** One line on stderr, rewritten in place on a terminal: loading 10M points takes a while. */
function progress(label: string, done: number, total: number, t0: number): void {
  const line = `${label}: ${fmt(done)} / ${fmt(total)} points (${fmt(done / ((performance.now() - t0) / 1000))}/s)`;
  if (process.stderr.isTTY) process.stderr.write(`\r${line}\x1b[K${done === total ? '\n' : ''}`);
  else if (done === total || done % 2_000_000 === 0) process.stderr.write(`${line}\n`);
}

let cacheDropped = false;

/**
 * Loads `devices` series of QUERY_POINTS / devices points each over 1,000 h, in time
 * order across devices (as a fleet writes them), then times 1,000 one-hour buckets
 * over the whole span for up to 20 of the series.
 */
async function queryBench(open: () => Promise<Store>, devices: number) {
  const store = await open();
  const from = Date.UTC(2025, 0, 1), span = 1000 * H;
  const perDevice = Math.floor(QUERY_POINTS / devices), total = perDevice * devices, step = span / perDevice;
  const names = Array.from({ length: devices }, (_, d) => `dev${String(d).padStart(5, '0')}`);
  const label = devices === 1 ? '1 series' : `${fmt(devices)} series`;
  const t0 = performance.now();
  for (let i = 0; i < total; i += 50_000) {
    const n = Math.min(50_000, total - i);
    await store.append(Array.from({ length: n }, (_, k) => {
      const j = i + k, d = j % devices, t = Math.floor(j / devices);
      return { device: names[d]!, metric: 'lux', ts: from + Math.floor(t * step), value: (j * 7) % 1000 };
    }));
    progress(`loading ${label}`, i + n, total, t0);
  }
  const loadRate = total / ((performance.now() - t0) / 1000);
  await store.close();
  const sample = names.filter((_, d) => d % Math.max(1, Math.floor(devices / 20)) === 0).slice(0, 20);
  const q = (device: string) => ({ device, metric: 'lux', from, to: from + span - 1, limit: 1000, bucketMs: H });
  cacheDropped = dropPageCache();
  const s = await open(); // a fresh connection, and (as root) an empty OS page cache
  const cold: number[] = [];
  for (const d of sample) cold.push(await timeIt(() => s.buckets(q(d)))); // the first query of each series after the reopen
  const warm: number[] = [];
  for (let i = 0; i < 15; i++) for (const d of sample) warm.push(await timeIt(() => s.buckets(q(d))));
  const buckets = (await s.buckets(q(sample[0]!))).length;
  const count = await timeIt(() => s.count(q(sample[0]!)));
  const rawScan = await timeIt(() => s.buckets({ ...q(sample[0]!), bucketMs: H + 1 })); // not a multiple of 1 h: raw path
  await s.close();
  const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
  return { label: `${fmt(devices)} × ${fmt(perDevice)}`, total, loadRate, buckets, coldFirst: cold[0]!, coldMax: Math.max(...cold), warm: pct(warm, 0.5), warmP95: pct(warm, 0.95), count, rawScan };
}

const load0 = loadavg()[0]!;
const started = new Date();
const rows: string[][] = [];
const qrows: string[][] = [];
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const backends: [string, () => Promise<{ opts: StoreOptions; cleanup: () => Promise<void> }>][] = [
  [`SQLite (--durability ${DURABILITY})`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fl-bench-'));
    return { opts: { dataDir: dir, durability: DURABILITY }, cleanup: () => rm(dir, { recursive: true, force: true }) };
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
  for (const part of process.argv.includes('--no-query') ? ['ingest' as const] : ['ingest', 'query', 'fleet'] as const) {
    const env = await make();
    try {
      if (part === 'ingest') {
        const store = await openStore(env.opts);
        const r = await ingestBench(store);
        await store.close();
        rows.push([name, fmt(r.written), fmt(r.rate), fmt(r.batches), fmt(r.pts), r.wMed.toFixed(1), r.wMax.toFixed(1), fmt(r.dropped), r.p99.toFixed(1), r.max.toFixed(1), r.idleP99.toFixed(1), r.cpuUsPerPoint.toFixed(2)]);
      } else {
        const r = await queryBench(() => openStore(env.opts), part === 'query' ? 1 : QUERY_DEVICES);
        qrows.push([name, r.label, fmt(r.total), fmt(r.loadRate), String(r.buckets), r.coldFirst.toFixed(1), r.coldMax.toFixed(1), r.warm.toFixed(1), r.warmP95.toFixed(1), r.count.toFixed(1), r.rawScan.toFixed(0)]);
      }
    } finally {
      await env.cleanup();
    }
    console.error(`done: ${name} ${part}`);
  }
}

const sqliteVersion = (() => {
  const db = new Database(':memory:');
  try {
    return db.prepare('SELECT sqlite_version()').pluck().get() as string;
  } finally {
    db.close();
  }
})();
const pgVersion = process.argv.includes('--no-pg') ? undefined : await (async () => {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return (await c.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version.split(' ')[0];
  } finally {
    await c.end();
  }
})();
console.log(`Run of ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${Math.round((Date.now() - started.getTime()) / 1000)} s: Node ${process.versions.node}, SQLite ${sqliteVersion}` +
  `${pgVersion ? `, PostgreSQL ${pgVersion} on this machine` : ''}; load average (1 min) ${load0.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end.`);
const table = (head: string[], body: string[][]) =>
  [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n');
console.log(`\n### Ingest through bus → ingest → store (${METRICS} metrics/message, ${DEVICES} devices, default batching, after ${fmt(WARMUP_POINTS)} points warm-up)\n`);
console.log(table(['backend', 'points', 'points/s', 'batches', 'points/batch', 'append latency median ms', 'append latency max ms', 'dropped', 'loop delay p99 ms', 'loop delay max ms', 'idle-thread p99 ms (control)', 'CPU µs/point (process, all threads)'], rows));
console.log(`\n### History: 1,000 buckets of 1 h over 1,000 h of one series, in a store holding one series or many (cold: ${cacheDropped ? 'OS page cache dropped, fresh connection' : 'fresh connection only: the OS page cache could not be dropped (not root)'})\n`);
console.log(table(['backend', 'series × points', 'points stored', 'load points/s (append 50k)', 'buckets', 'cold first ms', 'cold max of 20 series ms', 'warm median ms', 'warm p95 ms', 'count ms', 'raw-scan buckets ms'], qrows));
