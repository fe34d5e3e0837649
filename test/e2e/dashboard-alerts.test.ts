/**
 * Alerts in the dashboard (Debian's Chromium via playwright-core): simulated
 * greenhouses go dark, the banner appears on the device list, the Alerts view
 * lists them, Acknowledge reaches the hub, a rule made in the editor is stored,
 * and the banner goes away when the light returns. Timeouts are upper bounds.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startFleet, type Fleet } from '@fieldlink/device';
import { startHub, type Hub } from '../../packages/hub/src/hub.js';
import { createLogger } from '../../packages/hub/src/log.js';
import { testConfig } from '../../packages/hub/test/helpers.js';
import { buildDashboard, launchChromium } from './browser.js';

const tmp = mkdtempSync(join(tmpdir(), 'fl-dash-alerts-'));
let hub: Hub;
let fleet: Fleet;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;
let lux = 20_000;
const pageErrors: string[] = [];

before(async () => {
  const outDir = join(tmp, 'public');
  await buildDashboard(outDir);
  const alertsFile = join(tmp, 'alerts.yaml');
  writeFileSync(alertsFile, 'rules:\n  - { name: greenhouse-dark, kind: threshold, devices: ["greenhouse-*"], metric: lux, below: 50, hysteresis: 20, for: 1s }\n');
  hub = await startHub(testConfig({ store: 'sqlite', dataDir: join(tmp, 'data'), dashboardDir: outDir, alertsFile }), createLogger('silent'));
  fleet = await startFleet({ url: `mqtt://127.0.0.1:${hub.mqttPort}`, count: 2, idPrefix: 'greenhouse-', intervalMs: 200, light: () => lux });
  browser = await launchChromium();
  page = await browser.context.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.goto(`${hub.url}/#/devices`);
});

after(async () => {
  await browser?.close();
  await fleet?.stop();
  await hub?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

test('banner while greenhouses are dark; list, acknowledge, edit a rule; banner gone when light returns', async () => {
  await page.waitForSelector('[data-device="greenhouse-1"]', { timeout: 20_000 });
  assert.equal(await page.locator('[data-testid="alert-banner"]').count(), 0);
  lux = 5;
  const banner = page.locator('[data-testid="alert-banner"]');
  await banner.waitFor({ timeout: 20_000 });
  await page.waitForFunction(() => document.querySelector('[data-testid="alert-banner"]')?.textContent?.includes('2 alerts firing'), null, { timeout: 20_000 });
  await banner.locator('a').click();
  await page.waitForSelector('[data-testid="firing"] tr[data-alert]', { timeout: 10_000 });
  assert.equal(await page.locator('[data-testid="firing"] tr[data-alert]').count(), 2);
  await page.locator('[data-testid="firing"] button', { hasText: 'Acknowledge' }).first().click();
  await page.waitForFunction(() => document.querySelector('[data-testid="firing"]')?.textContent?.includes('by '), null, { timeout: 10_000 });
  assert.equal(hub.alerts!.firing().filter((a) => a.ackedBy !== null).length, 1);

  await page.fill('#rule-draft', JSON.stringify({ name: 'too-bright', kind: 'threshold', metric: 'lux', above: 100000 }));
  await page.locator('button', { hasText: 'Save rule' }).click();
  await page.waitForFunction(() => document.querySelector('[data-testid="rules"]')?.textContent?.includes('too-bright'), null, { timeout: 10_000 });
  assert.ok(hub.alerts!.rules().some((r) => r.name === 'too-bright' && r.origin === 'api'));
  await page.screenshot({ path: join(process.env.FIELDLINK_SCREENSHOTS_DIR ?? tmp, 'alerts.png'), fullPage: true });

  lux = 20_000;
  await banner.waitFor({ state: 'detached', timeout: 20_000 });
  await page.waitForFunction(() => document.querySelector('[data-testid="history"]')?.textContent?.includes('resolved'), null, { timeout: 10_000 });
  assert.deepEqual(pageErrors, []);
});
