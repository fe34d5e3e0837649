/**
 * What the browser tests share:
 *  - `launchChromium`: Debian's Chromium through playwright-core (no browser
 *    download: the system binary is used). Each launch gets a fresh profile in a
 *    temp dir, removed on close. Flags keep a headless run quiet and offline: no
 *    background networking, component updates or sync. playwright-core is a
 *    devDependency of @fieldlink/dashboard (npm hoists it).
 *  - `buildDashboard`: Vite build into a temp dir (served with `dashboardDir`), so
 *    tests never touch packages/hub/public.
 *  - `startCuttableProxy` (packages/hub/test/proxy.ts): a TCP proxy in front of
 *    the hub that a test can cut and restore, to drop the page's connection while
 *    the hub and the devices keep running.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.FIELDLINK_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export interface LaunchOptions {
  viewport?: { width: number; height: number };
  colorScheme?: 'light' | 'dark';
}

/** A persistent context on a fresh user-data dir; `close()` also deletes the dir. */
export async function launchChromium(opts: LaunchOptions = {}): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'fl-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    viewport: opts.viewport ?? { width: 1280, height: 800 },
    colorScheme: opts.colorScheme ?? 'light',
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const DASHBOARD = fileURLToPath(new URL('../../packages/dashboard/', import.meta.url));

export async function buildDashboard(outDir: string): Promise<void> {
  const { build } = await import('vite');
  await build({ root: DASHBOARD, configFile: join(DASHBOARD, 'vite.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true } });
}

export { startCuttableProxy, type CuttableProxy } from '../../packages/hub/test/proxy.js';
