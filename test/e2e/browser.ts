/**
 * What the browser tests share:
 *  - `launchChromium`: Debian's Chromium through playwright-core (no browser
 *    download: the system binary is used). Each launch gets a fresh profile in a
 *    temp dir, removed on close. Flags keep a headless run quiet and offline: no
 *    background networking, component updates or sync. playwright-core is a
 *    devDependency of @fieldlink/dashboard (npm hoists it).
 *  - `buildDashboard`: Vite build into a temp dir (served with `dashboardDir`), so
 *    tests never touch packages/hub/public.
 *  - `startCuttableProxy`: a TCP proxy in front of the hub that a test can cut
 *    and restore, to drop the page's connection while the hub and the devices
 *    keep running.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
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

export interface CuttableProxy {
  /** `http://127.0.0.1:<port>`: load the page from here, so its WebSocket goes through the proxy too. */
  readonly url: string;
  /** Resets every open connection and refuses new ones until `restore()`. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startCuttableProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<CuttableProxy> {
  const open = new Set<Socket>();
  let up = true;
  const server = createServer((down) => {
    if (!up) return void down.resetAndDestroy();
    const upstream = connect(targetPort, targetHost);
    const pair = [down, upstream];
    for (const s of pair) {
      open.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        open.delete(s);
        for (const o of pair) if (o !== s && !o.destroyed) o.destroy();
      });
    }
    down.pipe(upstream);
    upstream.pipe(down);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const proxy: CuttableProxy = {
    url: `http://127.0.0.1:${port}`,
    cut() {
      up = false;
      for (const s of [...open]) s.resetAndDestroy();
    },
    restore() {
      up = true;
    },
    async close() {
      proxy.cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
