/**
 * Link soak (docs/performance.md, "Link soak"): site and central hubs as child
 * processes with their own data directories, a TCP proxy between them, one
 * MQTT.js device publishing `--rate` QoS 1 readings/s at the site for
 * `--seconds`. The proxy is cut from `--cut-at` for `--cut` seconds; central is
 * killed with SIGKILL and restarted in the middle of the cut, the site
 * `--site-kill-at` seconds in (the device reconnects). Reports readings
 * acknowledged, stored at central, lost (acknowledged, not at central), the
 * link's duplicate counter and the time central took to catch up after the cut.
 * The long run: --rate 500 --seconds 720 --cut-at 60 --cut 600.
 * Run: node --conditions=source --import tsx bench/link-soak.ts [--rate 200] [--seconds 60] [--cut-at 10] [--cut 30] [--site-kill-at 50]
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startChaosProxy } from '../packages/hub/test/link/chaos-proxy.js';
import { addSite, sleep, startHubProc, stopHubProc } from '../packages/hub/test/link/procs.js';

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const RATE = arg('rate', 200), SECONDS = arg('seconds', 60), CUT_AT = arg('cut-at', 10), CUT = arg('cut', 30), SITE_KILL_AT = arg('site-kill-at', 50);

const centralDir = mkdtempSync(join(tmpdir(), 'fl-soak-central-'));
const siteDir = mkdtempSync(join(tmpdir(), 'fl-soak-site-'));
writeFileSync(join(siteDir, 'token'), addSite(centralDir, 'soak'));
const timers = ['--link-backoff-base-ms', '100', '--link-backoff-max-ms', '2000'];
let central = await startHubProc(centralDir, ['--port', '0', '--mqtt-port', '0', ...timers]);
const centralPort = central.port;
const proxy = await startChaosProxy(() => centralPort);
const siteArgs = (mqttPort: number) => ['--port', '0', '--mqtt-port', String(mqttPort), '--mqtt-engine', 'core', '--publish-rate', '0',
  '--link-url', `ws://127.0.0.1:${proxy.port}/link`, '--link-token-file', join(siteDir, 'token'), ...timers];
let site = await startHubProc(siteDir, siteArgs(-1));
const mqttPort = site.mqttPort;
const dev = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: 'soak-1', reconnectPeriod: 200, protocolVersion: 5 });
dev.on('error', () => undefined);

const T0 = Date.now() - SECONDS * 1000 - 60_000;
const acked = new Set<number>();
let sent = 0;
const start = Date.now();
const at = (s: number) => start + s * 1000;
const events: string[] = [];
let restoredAt = 0;
let caughtUpS = NaN;
const count = async () => {
  // Count through the CSV export: every stored reading once, however many.
  const csv = await fetch(`${central.url}/api/v1/history.csv?device=soak:soak-1&metric=n&from=${T0}&to=${T0 + 10_000_000}`).then((x) => x.text()).catch(() => '');
  return csv.split('\n').slice(1).filter(Boolean).map((l) => Number(l.split(',')[2]));
};

const schedule = (async () => {
  await sleep(at(CUT_AT) - Date.now());
  proxy.cut();
  events.push(`cut at ${CUT_AT} s`);
  await sleep(at(CUT_AT + CUT / 2) - Date.now());
  await stopHubProc(central, 'SIGKILL');
  central = await startHubProc(centralDir, ['--port', String(centralPort), '--mqtt-port', '0', ...timers]);
  events.push(`central kill -9 + restart at ${Math.round((Date.now() - start) / 1000)} s`);
  await sleep(at(CUT_AT + CUT) - Date.now());
  proxy.restore();
  restoredAt = Date.now();
  events.push(`restored at ${CUT_AT + CUT} s`);
  const before = [...acked];
  void (async () => { // catch-up: until every reading acknowledged before the restore is at central
    while (!Number.isFinite(caughtUpS)) {
      const have = new Set(await count());
      if (before.every((k) => have.has(k))) caughtUpS = (Date.now() - restoredAt) / 1000;
      else await sleep(200);
    }
  })();
  if (SITE_KILL_AT > 0 && SITE_KILL_AT < SECONDS) {
    await sleep(at(SITE_KILL_AT) - Date.now());
    await stopHubProc(site, 'SIGKILL');
    site = await startHubProc(siteDir, siteArgs(mqttPort));
    events.push(`site kill -9 + restart at ${Math.round((Date.now() - start) / 1000)} s`);
  }
})();


// Publishing: RATE/10 readings every 100 ms; a reading counts once its PUBACK arrived.
while (Date.now() < at(SECONDS)) {
  const tick = Date.now();
  for (let i = 0; i < RATE / 10; i++) {
    const k = sent++;
    dev.publishAsync('devices/soak-1/telemetry', JSON.stringify({ n: k, ts: T0 + k }), { qos: 1 }).then(() => acked.add(k), () => undefined);
  }
  await sleep(Math.max(0, 100 - (Date.now() - tick)));
}
await schedule;
await sleep(1000);
dev.end(true); // no acknowledgement arrives after this: the count below is of a settled set
await sleep(100);
// Until every acknowledged reading is at central, or nothing new arrived for 10 s (what is missing then is lost).
let values: number[] = [];
let stableSince = Date.now(), last = -1;
while (Date.now() - stableSince < 10_000) {
  values = await count();
  if ([...acked].every((k) => new Set(values).has(k))) break;
  if (values.length !== last) { last = values.length; stableSince = Date.now(); }
  await sleep(500);
}
const have = new Set(values);
const lost = [...acked].filter((k) => !have.has(k)).length;
const links = (await (await fetch(`${central.url}/api/v1/links`)).json()) as { sites: { site: string; duplicates: number; gaps: number }[] };
const soak = links.sites.find((s) => s.site === 'soak');
console.log(events.join('; '));
console.log('| rate msg/s | seconds | cut s | published | acknowledged | at central | lost | stored twice | link duplicates (since central restart) | catch-up after cut s |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
console.log(`| ${RATE} | ${SECONDS} | ${CUT} | ${sent} | ${acked.size} | ${have.size} | ${lost} | ${values.length - have.size} | ${soak?.duplicates ?? '?'} | ${caughtUpS.toFixed(1)} |`);
await Promise.allSettled([stopHubProc(site), stopHubProc(central), proxy.close()]);
