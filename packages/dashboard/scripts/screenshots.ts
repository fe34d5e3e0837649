/**
 * Screenshots of the dashboard for docs/images, taken through the UI as a user
 * would get there. Used by test/e2e/dashboard.test.ts (into a temp dir, or
 * FIELDLINK_SCREENSHOTS_DIR) and runnable against any hub for the docs:
 *
 *   node --conditions=source --import tsx packages/dashboard/scripts/screenshots.ts http://127.0.0.1:8080 docs/images [device]
 *
 * A hub that has run for some minutes gives fuller charts than a fresh test hub.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';

async function settle(page: Page): Promise<void> {
  await page.waitForSelector('.conn[data-state="open"]');
  await page.waitForTimeout(1500);
}

export async function captureScreenshots(context: BrowserContext, base: string, dir: string, device = 'sim-1'): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const out: string[] = [];
  const shot = async (page: Page, name: string, fullPage = false) => {
    const path = join(dir, `${name}.png`);
    await page.screenshot({ path, fullPage });
    out.push(path);
  };
  const page = await context.newPage();
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`${base}/#/devices`);
  await page.waitForSelector('tr[data-device]');
  await settle(page);
  await shot(page, 'devices');

  await page.goto(`${base}/#/devices/${device}`);
  await page.waitForSelector('.chart canvas');
  await settle(page);
  await page.hover('.chart[data-metric] .u-over', { position: { x: 700, y: 100 } });
  await shot(page, 'device');

  await page.goto(`${base}/#/explorer`);
  await settle(page);
  await page.fill('input[name="filter"]', `devices/${device}/#`);
  await page.click('form[aria-label="Subscribe"] button[type="submit"]');
  await page.waitForSelector('li.msg');
  await page.waitForTimeout(1500);
  await shot(page, 'explorer');

  await page.setViewportSize({ width: 360, height: 740 });
  await page.goto(`${base}/#/devices`);
  await settle(page);
  await shot(page, 'devices-360');
  await page.goto(`${base}/#/devices/${device}`);
  await page.waitForSelector('.chart canvas');
  await settle(page);
  await shot(page, 'device-360');
  await page.close();

  const dark = await context.newPage();
  await dark.emulateMedia({ colorScheme: 'dark' });
  await dark.setViewportSize({ width: 1280, height: 800 });
  await dark.goto(`${base}/#/devices/${device}?range=1h`);
  await dark.waitForSelector('.chart canvas');
  await settle(dark);
  await shot(dark, 'device-dark');
  await dark.close();
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [base = 'http://127.0.0.1:8080', dir = 'docs/images', device] = process.argv.slice(2);
  const { launchChromium } = await import('../../../test/e2e/browser.js');
  const b = await launchChromium();
  try {
    console.log((await captureScreenshots(b.context, base, dir, device)).join('\n'));
  } finally {
    await b.close();
  }
}
