/**
 * The MQTT engine's durable state (storage/mqtt-state.ts) on SQLite in both
 * --durability modes and on PostgreSQL, printed as a Markdown table: QoS 1
 * messages for offline persistent sessions, each recorded as the engine records
 * it (queued: putOutbound; sent: putOutbound with a packet id; acknowledged:
 * deleteOutbound). Two pacings: free-running (records of 1,000 per tick; the
 * store's group commit takes whatever queued meanwhile) and a flush awaited every
 * 100 records (one transaction per 100: what acknowledge-after-commit costs). Reports messages/s and rows/s committed, wall
 * clock, and process CPU per message (all threads: the SQLite writer included),
 * which is the number to compare on a shared machine.
 * Run: node --conditions=source --import tsx bench/mqtt-state.ts [--messages 50000] [--no-pg]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type StoreOptions } from '../packages/hub/src/storage/index.js';

const argAt = process.argv.indexOf('--messages');
const MESSAGES = argAt > 0 ? Number(process.argv[argAt + 1]) : 50_000;
const SESSIONS = 100;
const PG_URL = process.env.FIELDLINK_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const payload = Buffer.from(JSON.stringify({ lux: 412.5, white: 530, ts: 1764072000000 }));

/** `waitEach`: await flush() after every tick's records (as acknowledge-after-commit does), so one transaction per tick of `perTick` records. */
async function run(opts: StoreOptions, perTick: number, waitEach: boolean) {
  const store = await openStore(opts);
  const st = store.mqttState({ maxPending: 10_000_000 });
  for (let s = 0; s < SESSIONS; s++) st.putSession({ clientId: `c${s}`, protocolVersion: 5, expirySec: 3600 });
  await st.flush();
  const msg = (i: number) => ({ topic: `devices/d${i % SESSIONS}/cmd/set`, payload, qos: 1 as const, retain: false, ts: Date.now() });
  const tick = () => (waitEach ? st.flush() : new Promise((r) => setImmediate(r)));
  const cpu0 = process.cpuUsage(), t0 = performance.now();
  let n = 0;
  for (let i = 0; i < MESSAGES; i++) {
    const c = `c${i % SESSIONS}`, seq = Math.floor(i / SESSIONS) + 1, m = msg(i);
    st.putOutbound(c, { seq, msg: m, qos: 1, retain: false, ids: null, pid: 0, state: 'queued' });
    if ((n += 1) % perTick === 0) await tick();
  }
  await st.flush();
  const queued = performance.now();
  for (let i = 0; i < MESSAGES; i++) {
    const c = `c${i % SESSIONS}`, seq = Math.floor(i / SESSIONS) + 1;
    st.putOutbound(c, { seq, msg: msg(i), qos: 1, retain: false, ids: null, pid: (seq % 65535) + 1, state: 'publish' });
    st.deleteOutbound(c, seq);
    if ((n += 2) % perTick === 0) await tick();
  }
  await st.flush();
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const stats = st.stats();
  await st.close();
  await store.close();
  return { secs, queueSecs: (queued - t0) / 1000, rows: stats.committed - SESSIONS, commits: stats.commits, cpuUsPerMsg: (cpu.user + cpu.system) / MESSAGES };
}

const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
const rows: string[][] = [];
const cases: [string, () => Promise<{ opts: StoreOptions; cleanup: () => Promise<unknown> }>][] = [];
for (const durability of ['process', 'power'] as const) {
  cases.push([`SQLite, --durability ${durability}`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fl-bench-state-'));
    return { opts: { dataDir: dir, durability }, cleanup: () => rm(dir, { recursive: true, force: true }) };
  }]);
}
if (!process.argv.includes('--no-pg')) cases.push(['PostgreSQL (synchronous_commit=on)', async () => {
  const schema = `fl_bench_${randomBytes(4).toString('hex')}`;
  return {
    opts: { url: PG_URL, schema },
    cleanup: async () => { const c = new pg.Client({ connectionString: PG_URL }); await c.connect(); await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`); await c.end(); },
  };
}]);
for (const [name, make] of cases) {
  const env = await make();
  try {
    for (const [label, perTick, waitEach] of [['free-running (group commit takes what queued)', 1000, false], ['flush awaited every 100 records', 100, true]] as const) {
      const r = await run(env.opts, perTick, waitEach);
      rows.push([name, label, fmt(MESSAGES), fmt(MESSAGES / r.queueSecs), fmt(MESSAGES / r.secs), fmt(r.rows / r.secs), fmt(r.commits), fmt(r.commits / r.secs), r.cpuUsPerMsg.toFixed(1)]);
    }
  } finally {
    await env.cleanup();
  }
  console.error(`done: ${name}`);
}
console.log(`### MQTT engine state: QoS 1 messages to ${SESSIONS} offline persistent sessions, queued, then sent and acknowledged\n`);
console.log('| store | pacing | messages | queued msg/s | whole life msg/s (3 records each) | records/s | transactions | transactions/s | CPU µs/message (process, all threads) |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
