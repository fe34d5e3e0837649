/**
 * The dashboard in a real browser (Debian's Chromium via playwright-core),
 * against a hub started in this process with a SQLite store and three simulated
 * light sensors (indoor light, MQTT/TCP, 5 readings a second, 2 s keepalive).
 * The scene is placed where it is midday now (`longitudeAt(12)`): at night the
 * room is dark, the sensor integrates up to 800 ms per reading and the charts
 * would fill several times slower, so the suite once failed after 20:30 UTC.
 *
 * The dashboard is built by Vite into a temp dir served with `dashboardDir`, so
 * the test never touches packages/hub/public. Screenshots go to a temp dir, or
 * to FIELDLINK_SCREENSHOTS_DIR (docs/images when refreshing the docs).
 * Timeouts below are upper bounds for "eventually"; nothing asserts on speed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { longitudeAt, startFleet, type Fleet } from '@fieldlink/device';
import { startHub, type Hub } from '../../packages/hub/src/hub.js';
import { createLogger } from '../../packages/hub/src/log.js';
import { testConfig } from '../../packages/hub/test/helpers.js';
import { captureScreenshots } from '../../packages/dashboard/scripts/screenshots.js';
import { buildDashboard, launchChromium, startCuttableProxy } from './browser.js';

const KEEPALIVE_SEC = 2;
const tmp = mkdtempSync(join(tmpdir(), 'fl-dash-e2e-'));
let hub: Hub;
let fleet: Fleet;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;
const pageErrors: string[] = [];

before(async () => {
  const outDir = join(tmp, 'public');
  await buildDashboard(outDir);
  const cfg = testConfig({ store: 'sqlite', dataDir: join(tmp, 'data'), dashboardDir: outDir });
  hub = await startHub(cfg, createLogger('silent'));
  fleet = await startFleet({ url: `mqtt://127.0.0.1:${hub.mqttPort}`, count: 3, intervalMs: 200, light: 'indoor', longitude: longitudeAt(12), keepaliveSec: KEEPALIVE_SEC });
  browser = await launchChromium();
  page = await browser.context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.setDefaultTimeout(15_000);
});

after(async () => {
  await browser?.close();
  await fleet?.stop({ graceful: false });
  await hub?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const row = (id: string) => page.locator(`tr[data-device="${id}"]`);

test('device list: the simulated sensors are online and their values change live', async () => {
  await page.goto(`${hub.url}/#/devices`);
  await page.waitForSelector('.conn[data-state="open"]');
  for (const id of fleet.ids) await row(id).locator('.pill-ok').waitFor();
  const values = () => page.locator('td.values').allInnerTexts().then((t) => t.join('|'));
  await page.waitForFunction(() => [...document.querySelectorAll('td.values')].every((e) => / lx/.test((e as HTMLElement).innerText)));
  const first = await values();
  assert.match(first, /lux \d+(\.\d+)? lx/, 'values carry the unit from meta');
  await page.waitForFunction((before) => [...document.querySelectorAll('td.values')].map((e) => (e as HTMLElement).innerText).join('|') !== before, first);
  assert.equal(await row('sim-1').locator('.model').innerText(), 'VEML7700 (emulated)');
  await page.fill('input[type="search"]', 'sim-2');
  assert.deepEqual(await page.locator('tr[data-device]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-device'))), ['sim-2']);
  await page.fill('input[type="search"]', '');
});

test('device view: the lux chart draws live data, and a command returns its answer', async () => {
  await row('sim-1').locator('a').click();
  assert.match(page.url(), /#\/devices\/sim-1$/);
  const chart = page.locator('.chart[data-metric="lux"]');
  await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('.chart[data-metric="lux"]')?.dataset.points) > 30);
  const accentPixels = await chart.locator('canvas').evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3]! > 128 && Math.abs(d[i]! - 9) < 40 && Math.abs(d[i + 1]! - 105) < 40 && Math.abs(d[i + 2]! - 218) < 40) n++;
    return n;
  });
  assert.ok(accentPixels > 20, `the line is drawn in the series colour (${accentPixels} pixels)`);

  const identify = page.locator('form[data-method="identify"]');
  await identify.locator('button[type="submit"]').click();
  await identify.locator('output.answer.ok').waitFor();
  assert.match(await identify.locator('output').innerText(), /"identified": true/);

  const setInterval = page.locator('form[data-method="set_interval"]');
  await setInterval.locator('input[name="ms"]').fill('50');
  await setInterval.locator('button[type="submit"]').click();
  assert.match(await setInterval.locator('small.bad').innerText(), /at least 100/, 'the form checks min before sending');
  await setInterval.locator('input[name="ms"]').fill('250');
  await setInterval.locator('button[type="submit"]').click();
  await setInterval.locator('output.answer.ok').waitFor();
  assert.match(await setInterval.locator('output').innerText(), /"intervalMs": 250/);

  const gain = page.locator('form[data-method="set_gain"]');
  await gain.locator('select[name="gain"]').selectOption('auto');
  await gain.locator('button[type="submit"]').click();
  await gain.locator('output.answer.ok').waitFor();
  assert.match(await gain.locator('output').innerText(), /"gain": "auto"/);
});

test('reload keeps the view and shows the history of the last minutes; 1 h loads buckets', async () => {
  await page.waitForTimeout(1500); // some points are stored before the reload
  const reloadedAt = Date.now();
  await page.reload();
  await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('.chart[data-metric="lux"]')?.dataset.points) > 0);
  const first = Number(await page.locator('.chart[data-metric="lux"]').getAttribute('data-first'));
  assert.ok(first < reloadedAt - 2000, `history from before the reload: first point ${reloadedAt - first} ms earlier`);

  await page.getByRole('button', { name: '1 h' }).click();
  assert.match(page.url(), /range=1h/);
  await page.getByText(/buckets of 10 s/).waitFor();
  await page.reload();
  await page.getByText(/buckets of 10 s/).waitFor();
  assert.equal(await page.getByRole('button', { name: '1 h' }).getAttribute('aria-pressed'), 'true');
  await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('.chart[data-metric="lux"]')?.dataset.points) > 0);
  const csv = await page.locator('.chart-box').first().locator('a[download]').getAttribute('href');
  const res = await fetch(`${hub.url}${csv}`);
  assert.equal(res.status, 200);
  assert.match((await res.text()).split('\n')[0]!, /^ts,iso,value/);
});

test('a device stopped without DISCONNECT turns offline within its keepalive; calls to it fail with a code', async () => {
  await page.goto(`${hub.url}/#/devices`);
  await row('sim-3').locator('.pill-ok').waitFor();
  await fleet.stopDevice('sim-3', { graceful: false });
  await row('sim-3').locator('.pill-off').waitFor({ timeout: KEEPALIVE_SEC * 1500 + 5000 });
  await row('sim-3').locator('a').click();
  const identify = page.locator('form[data-method="identify"]');
  await identify.locator('button[type="submit"]').click();
  await identify.locator('output.answer.bad').waitFor();
  assert.match(await identify.locator('output').innerText(), /2002 DEVICE_OFFLINE/);
});

test('topic explorer: receives a message published with mosquitto_pub; hub errors are shown', async () => {
  await page.goto(`${hub.url}/#/explorer`);
  await page.fill('input[name="filter"]', 'e2e/#');
  await page.click('form[aria-label="Subscribe"] button[type="submit"]');
  await page.locator('.chips code', { hasText: 'e2e/#' }).waitFor();
  const child = spawn('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(hub.mqttPort), '-t', 'e2e/hello', '-m', '{"answer":42}']);
  const code = await new Promise<number | null>((resolve, reject) => child.once('exit', resolve).once('error', reject));
  assert.equal(code, 0);
  const msg = page.locator('li.msg[data-topic="e2e/hello"]');
  await msg.waitFor();
  assert.match(await msg.innerText(), /"answer": 42/);

  await page.fill('input[name="topic"]', 'a/+/b');
  await page.click('form.publish button[type="submit"]');
  await page.locator('form.publish output.bad').waitFor();
  assert.match(await page.locator('form.publish output').innerText(), /1006 INVALID_TOPIC/);

  await page.fill('input[name="filter"]', 'a/#/b');
  await page.click('form[aria-label="Subscribe"] button[type="submit"]');
  assert.match(await page.locator('.inline-error').innerText(), /1007 INVALID_FILTER/);

  await page.fill('input[name="topic"]', 'e2e/from-browser');
  await page.fill('textarea[name="payload"]', '{"from":"dashboard"}');
  await page.click('form.publish button[type="submit"]');
  await page.locator('li.msg[data-topic="e2e/from-browser"]').waitFor();
});

test('reconnect: the chart backfills what the devices published while the page was cut off, without duplicates', async () => {
  // The page reaches the hub through a proxy that the test cuts; the devices publish straight to the hub (MQTT) throughout.
  const proxy = await startCuttableProxy(Number(new URL(hub.url).port));
  const p = await browser.context.newPage();
  p.on('pageerror', (e) => pageErrors.push(e.message));
  p.setDefaultTimeout(15_000);
  try {
    const times = () => p.evaluate(() => (window as unknown as { __fieldlink: { chart: { times(m: string): number[] } } }).__fieldlink.chart.times('lux'));
    await p.goto(`${proxy.url}/?e2e#/devices/sim-2`);
    await p.waitForSelector('.conn[data-state="open"]');
    await p.waitForFunction(() => Number(document.querySelector<HTMLElement>('.chart[data-metric="lux"]')?.dataset.points) > 5);

    const cutAt = Date.now();
    proxy.cut();
    await p.waitForSelector('.conn:not([data-state="open"])');
    await p.waitForTimeout(3000); // readings keep going into the store meanwhile
    const restoredAt = Date.now();
    const heldBefore = await times();
    assert.ok(!heldBefore.some((t) => t > cutAt + 500 && t < restoredAt - 500), 'the page got nothing during the cut');
    proxy.restore();
    await p.waitForSelector('.conn[data-state="open"]', { timeout: 30_000 }); // the client's backoff is at most 10 s

    const res = await fetch(`${hub.url}/api/v1/history?device=sim-2&metric=lux&from=${cutAt + 500}&to=${restoredAt - 500}&limit=1000`);
    const stored = ((await res.json()) as { points: { ts: number }[] }).points.map((x) => x.ts);
    assert.ok(stored.length >= 5, `the store has readings from the gap (${stored.length})`);
    await p.waitForFunction(
      (want) => {
        const held = new Set((window as unknown as { __fieldlink: { chart: { times(m: string): number[] } } }).__fieldlink.chart.times('lux'));
        return want.every((t) => held.has(t));
      },
      stored,
      { timeout: 15_000 },
    );
    await p.waitForFunction((t) => (window as unknown as { __fieldlink: { chart: { times(m: string): number[] } } }).__fieldlink.chart.times('lux').some((x) => x > t), restoredAt);
    const held = await times();
    for (let i = 1; i < held.length; i++) assert.ok(held[i]! > held[i - 1]!, `strictly increasing, no duplicates (at ${i}: ${held[i - 1]} then ${held[i]})`);
    assert.equal(new Set(held).size, held.length);
  } finally {
    await p.close();
    await proxy.close();
  }
});

test('screenshots of the main views (1280×800, 360 px, dark)', async () => {
  const dir = process.env.FIELDLINK_SCREENSHOTS_DIR ?? join(tmp, 'shots');
  const files = await captureScreenshots(browser.context, hub.url, dir);
  assert.ok(files.length >= 5);
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
});
