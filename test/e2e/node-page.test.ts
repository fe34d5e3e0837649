/**
 * The sensor node's own live page, as a person sees it: a standalone node
 * (no hub) under a constant 321 lx, opened in Debian's headless Chromium from two
 * pages at once. Each shows the live reading near 321 lx in `#lux`, keeps
 * updating (the reading's time in `#detail` moves on), and runs without a
 * script or CSP error. A screenshot goes to the test's temporary directory, or
 * to examples/images/node-page.png with UPDATE_SCREENSHOTS=1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as PlaywrightCore from 'playwright-core';
import { startNode } from '@fieldlink/device';
import { requirePeers } from './peers.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const LIGHT = 321;

const pw: typeof PlaywrightCore | undefined = await import('playwright-core').catch(() => undefined);

test('node page: live lux in two Chromium pages at once', { timeout: 60_000 }, async () => {
  assert.ok(pw, 'playwright-core is not installed: run npm install');
  requirePeers(['chromium']); // a missing browser fails with what to install; never skips
  const node = await startNode({ port: 0, light: String(LIGHT), intervalMs: 100 });
  const browser = await pw!.chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 30_000 });
  try {
    const context = await browser.newContext({ viewport: { width: 900, height: 560 } });
    const pages = [await context.newPage(), await context.newPage()];
    const errors: string[] = [];
    for (const [i, page] of pages.entries()) {
      page.on('pageerror', (e) => errors.push(`page ${i}: ${e.message}`));
      page.on('console', (m) => { if (m.type() === 'error' && !/status of 404/.test(m.text())) errors.push(`page ${i} console: ${m.text()}`); });
      // Chromium asks for /favicon.ico on its own; the page has no icon (see the report). Any other 404 fails.
      page.on('response', (r) => { if (r.status() >= 400 && new URL(r.url()).pathname !== '/favicon.ico') errors.push(`page ${i}: ${r.status()} for ${r.url()}`); });
      page.setDefaultTimeout(10_000);
    }
    await Promise.all(pages.map((p) => p.goto(node.url, { waitUntil: 'load' })));

    const luxOf = async (i: number) => Number((await pages[i]!.locator('#lux').textContent())!.replace(/,/g, ''));
    for (const [i, page] of pages.entries()) {
      // '–' until the first reading arrives over /ws/live
      await page.waitForFunction(() => /\d/.test(document.querySelector('#lux')?.textContent ?? ''), undefined, { timeout: 10_000 });
      const lux = await luxOf(i);
      assert.ok(Math.abs(lux - LIGHT) <= LIGHT * 0.02, `page ${i}: #lux ${lux} near ${LIGHT}`);
      assert.equal(await page.locator('#link').textContent(), 'live');
      assert.match((await page.locator('#device').textContent())!, /VEML7700/);
    }

    // Both pages keep updating: the reading's time in #detail moves on (second resolution).
    const details = await Promise.all(pages.map((p) => p.locator('#detail').textContent()));
    assert.match(details[0]!, /ALS \d+ · white \d+ counts/);
    await Promise.all(pages.map((p, i) => p.waitForFunction((before) => document.querySelector('#detail')?.textContent !== before, details[i], { timeout: 5000 })));
    const readingTs = node.latest()!.ts;
    assert.ok(Date.now() - readingTs < 1000, 'the node is still reading');
    for (let i = 0; i < pages.length; i++) assert.ok(Math.abs((await luxOf(i)) - LIGHT) <= LIGHT * 0.02);

    // The chart has points: the canvas is no longer blank.
    const painted = await pages[0]!.evaluate(() => {
      const c = document.querySelector('canvas')!;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      for (let k = 3; k < d.length; k += 4) if (d[k]! > 0) return true;
      return false;
    });
    assert.ok(painted, 'the chart draws the history');

    const shotDir = process.env.UPDATE_SCREENSHOTS ? fileURLToPath(new URL('../../examples/images/', import.meta.url)) : mkdtempSync(join(tmpdir(), 'fl-node-page-'));
    mkdirSync(shotDir, { recursive: true });
    await pages[0]!.screenshot({ path: join(shotDir, 'node-page.png') });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await node.stop();
  }
});
