/**
 * Smoothness under load: 20 simulated devices at 10 Hz (200 telemetry messages a
 * second) into an in-process hub, the dashboard in headless Chromium, measured
 * per view with a long-task observer and a requestAnimationFrame gap monitor.
 * Prints a Markdown table (docs/dashboard.md quotes it). Not a test: numbers
 * depend on the machine; run it by hand:
 *
 *   node --conditions=source --import tsx packages/dashboard/scripts/perf.ts [seconds per view]
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';
import { startFleet } from '@fieldlink/device';
import { startHub } from '../../hub/src/hub.js';
import { createLogger } from '../../hub/src/log.js';
import { testConfig } from '../../hub/test/helpers.js';
import { launchChromium } from '../../../test/e2e/browser.js';

const seconds = Number(process.argv[2] ?? 20);
const root = fileURLToPath(new URL('..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'fl-perf-'));
const outDir = join(tmp, 'public');
await build({ root, configFile: join(root, 'vite.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true } });
const assets = readdirSync(join(outDir, 'assets'));
const gz = (ext: string) => assets.filter((f) => f.endsWith(ext)).reduce((n, f) => n + gzipSync(readFileSync(join(outDir, 'assets', f))).length, 0);

const hub = await startHub(testConfig({ store: 'sqlite', dataDir: join(tmp, 'data'), dashboardDir: outDir }), createLogger('silent'));
const fleet = await startFleet({ url: `mqtt://127.0.0.1:${hub.mqttPort}`, count: 20, intervalMs: 100, light: 'indoor' });
const b = await launchChromium();
const page = await b.context.newPage();
// Collects long tasks (> 50 ms, as the Long Tasks API defines them) and gaps between animation frames.
// A string, not a function: tsx would wrap named functions in a `__name` helper the page does not have.
await page.addInitScript(`
  window.__perf = { long: [], gaps: [] };
  new PerformanceObserver((l) => l.getEntries().forEach((e) => window.__perf.long.push(e.duration))).observe({ type: 'longtask', buffered: true });
  let last = 0;
  requestAnimationFrame(function tick(t) {
    if (last) window.__perf.gaps.push(t - last);
    last = t;
    requestAnimationFrame(tick);
  });
`);

interface TraceEvent { name: string; ph: string; pid: number; tid: number; dur: number; tdur?: number; args?: { name?: string } }
/** Top-level tasks of the page's renderer main thread, with wall (`dur`) and CPU (`tdur`) time in µs. */
function mainThreadTasks(events: TraceEvent[]): TraceEvent[] {
  const mains = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  const tasks = events.filter((e) => e.ph === 'X' && e.name === 'RunTask' && mains.has(`${e.pid}:${e.tid}`));
  const busiest = new Map<string, number>();
  for (const e of tasks) busiest.set(`${e.pid}:${e.tid}`, (busiest.get(`${e.pid}:${e.tid}`) ?? 0) + 1);
  const main = [...busiest].sort((a, b) => b[1] - a[1])[0]?.[0];
  return tasks.filter((e) => `${e.pid}:${e.tid}` === main);
}

interface Row { view: string; busy: number; script: number; tasks: number; wall50: number; cpu50: number; maxCpu: number; frames: number; fps: number; p99: number; maxGap: number; over50: number; longTasks: number; maxLong: number }
const rows: Row[] = [];
// Main-thread time of the renderer (CDP Performance domain): tells the page's own work from CPU contention.
const cdp = await b.context.newCDPSession(page);
await cdp.send('Performance.enable');
const metrics = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value])) as Record<string, number>;
async function measure(view: string, setup: () => Promise<void>): Promise<void> {
  await setup();
  await page.waitForTimeout(2000); // let the initial load settle; it is not what we measure
  await page.evaluate('window.__perf.long = []; window.__perf.gaps = []');
  const m0 = await metrics();
  const events: TraceEvent[] = [];
  const onData = (e: { value: object[] }) => events.push(...(e.value as TraceEvent[]));
  cdp.on('Tracing.dataCollected', onData);
  await cdp.send('Tracing.start', { categories: 'toplevel,disabled-by-default-devtools.timeline', transferMode: 'ReportEvents' });
  await page.waitForTimeout(seconds * 1000);
  const m1 = await metrics();
  const done = new Promise((r) => cdp.once('Tracing.tracingComplete', r));
  await cdp.send('Tracing.end');
  await done;
  cdp.off('Tracing.dataCollected', onData);
  const t = mainThreadTasks(events);
  const { long, gaps } = (await page.evaluate('window.__perf')) as { long: number[]; gaps: number[] };
  const sorted = [...gaps].sort((a, b) => a - b);
  const r1 = (n: number) => Math.round(n * 10) / 10;
  rows.push({
    view, tasks: t.length, wall50: t.filter((e) => e.dur > 50_000).length, cpu50: t.filter((e) => (e.tdur ?? e.dur) > 50_000).length, maxCpu: r1(Math.max(0, ...t.map((e) => e.tdur ?? 0)) / 1000), busy: r1(((m1.TaskDuration! - m0.TaskDuration!) / seconds) * 100), script: r1(((m1.ScriptDuration! - m0.ScriptDuration!) / seconds) * 100), frames: gaps.length, fps: r1(gaps.length / (gaps.reduce((a, g) => a + g, 0) / 1000 || 1)), p99: r1(sorted[Math.floor(sorted.length * 0.99)] ?? 0),
    maxGap: r1(sorted[sorted.length - 1] ?? 0), over50: gaps.filter((g) => g > 50).length, longTasks: long.length, maxLong: r1(Math.max(0, ...long)),
  });
}

try {
  await measure('device list (20 devices)', async () => {
    await page.goto(`${hub.url}/#/devices`);
    await page.waitForSelector('tr[data-device="sim-20"]');
  });
  await measure('device view, live 5 min (3 charts)', async () => {
    await page.goto(`${hub.url}/#/devices/sim-7`);
    await page.waitForSelector('.chart canvas');
  });
  await measure('device view, 1 h buckets', async () => {
    await page.goto(`${hub.url}/#/devices/sim-7?range=1h`);
    await page.waitForSelector('.chart canvas');
  });
  await measure('topic explorer, devices/# (200 msg/s)', async () => {
    await page.goto(`${hub.url}/#/explorer`);
    await page.fill('input[name="filter"]', 'devices/#');
    await page.click('form[aria-label="Subscribe"] button[type="submit"]');
    await page.waitForSelector('li.msg');
  });
  console.log(`\n20 devices × 10 Hz, ${seconds} s per view, headless Chromium (${(await b.context.browser()?.version()) ?? 'chromium'}), ${hub.registry.list().length} devices known\n`);
  console.log('| view | main thread busy % | of it script % | tasks | tasks > 50 ms wall | tasks > 50 ms CPU | longest task CPU (ms) | frames | fps | p99 frame gap (ms) | max frame gap (ms) | gaps > 50 ms | long tasks | longest task (ms) |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) console.log(`| ${r.view} | ${r.busy} | ${r.script} | ${r.tasks} | ${r.wall50} | ${r.cpu50} | ${r.maxCpu} | ${r.frames} | ${r.fps} | ${r.p99} | ${r.maxGap} | ${r.over50} | ${r.longTasks} | ${r.maxLong} |`);
  console.log(`\nbundle (gzip): JS ${(gz('.js') / 1024).toFixed(1)} KiB, CSS ${(gz('.css') / 1024).toFixed(1)} KiB`);
} finally {
  await b.close();
  await fleet.stop({ graceful: false });
  await hub.stop();
  rmSync(tmp, { recursive: true, force: true });
}
