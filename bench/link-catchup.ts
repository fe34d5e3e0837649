/**
 * Link catch-up benchmark (docs/link.md): a site hub and a central hub (both
 * in this process, SQLite stores in a temp dir, embedded core engine) joined
 * through a TCP proxy that starts cut. `--devices` MQTT clients publish
 * `--backlog` telemetry messages at the site (one outbox record each); then the
 * proxy is restored and, while one more device keeps publishing `--live`
 * messages/s, the backlog drains. Prints records/s of the drain (wall) and the
 * process CPU per record (both hubs: robust to a busy machine), and checks that
 * central holds every reading once.
 * Run: node --conditions=source --import tsx bench/link-catchup.ts [--backlog 50000] [--devices 10] [--live 200]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { hubOptions } from '../packages/hub/src/config/options.js';
import { resolve } from '../packages/hub/src/config/schema.js';
import { startHub } from '../packages/hub/src/hub.js';
import { openLinkStore } from '../packages/hub/src/storage/index.js';
import { makeToken, newTokenId } from '../packages/hub/src/auth/secrets.js';
import { startChaosProxy } from '../packages/hub/test/link/chaos-proxy.js';

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const BACKLOG = arg('backlog', 50_000);
const DEVICES = arg('devices', 10);
const LIVE = arg('live', 200);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dir = await mkdtemp(join(tmpdir(), 'fl-link-bench-'));
const base = { ...resolve(hubOptions, { argv: [], env: {}, warn: () => undefined }), port: 0, mqttPort: -1, logLevel: 'silent', publishRate: 0, mqttEngine: 'core' as const };
const central = await startHub({ ...base, dataDir: join(dir, 'central'), mqttPort: 0 });
const ls = openLinkStore({ dataDir: join(dir, 'central') });
const id = newTokenId();
const { token, hash } = makeToken(id);
await ls.putSiteToken({ id, site: 'bench', hash, createdAt: Date.now(), revokedAt: null });
await ls.close();
await writeFile(join(dir, 'token'), token);
const proxy = await startChaosProxy(() => central.httpPort);
proxy.cut();
const site = await startHub({ ...base, dataDir: join(dir, 'site'), linkUrl: `ws://127.0.0.1:${proxy.port}/link`, linkTokenFile: join(dir, 'token'), linkBoundEveryMs: 200, linkBackoffMaxMs: 200 });
const stats = () => site.link.site!.stats.snapshot();

const T0 = Date.now() - 3_600_000;
const clients = await Promise.all([...Array(DEVICES).keys()].map((i) => mqtt.connectAsync(`mqtt://127.0.0.1:${site.mqttPort}`, { clientId: `b${i}`, protocolVersion: 5 })));
const per = Math.ceil(BACKLOG / DEVICES);
await Promise.all(clients.map(async (c, i) => {
  for (let k = 0; k < per; k++) await c.publishAsync(`devices/b${i}/telemetry`, JSON.stringify({ v: k, ts: T0 + k }), { qos: 1 });
}));
while (stats().queue.telemetry!.records < per * DEVICES) await sleep(100);

const live = await mqtt.connectAsync(`mqtt://127.0.0.1:${site.mqttPort}`, { clientId: 'live', protocolVersion: 5 });
let liveSent = 0;
const liveTimer = setInterval(() => {
  for (let i = 0; i < LIVE / 10; i++) live.publish('devices/live/telemetry', JSON.stringify({ v: liveSent, ts: Date.now() - 1000 + (liveSent++ % 1000) }), { qos: 1 });
}, 100);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const acked0 = stats().acked.telemetry;
proxy.restore();
while (stats().acked.telemetry - acked0 < per * DEVICES) await sleep(20);
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
clearInterval(liveTimer);
const records = stats().acked.telemetry - acked0;
let stored = 0;
for (let i = 0; i < DEVICES; i++) stored += await central.store!.count({ device: `bench:b${i}`, metric: 'v', from: T0, to: T0 + per });

console.log('| backlog records | live msg/s | drain s | records/s (wall) | CPU µs/record (both hubs) | stored at central |');
console.log('|---:|---:|---:|---:|---:|---:|');
console.log(`| ${per * DEVICES} | ${LIVE} | ${(wall / 1000).toFixed(2)} | ${Math.round(records / (wall / 1000))} | ${((cpu.user + cpu.system) / records).toFixed(1)} | ${stored} |`);
if (stored !== per * DEVICES) console.log(`MISMATCH: ${per * DEVICES - stored} readings missing at central`);

for (const c of [...clients, live]) c.end(true);
await site.stop();
await central.stop();
await proxy.close();
await rm(dir, { recursive: true, force: true });
