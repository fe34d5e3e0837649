/**
 * Dashboard build and dev server.
 *  - `vite build` writes into the hub package (packages/hub/public, emptied first),
 *    which the hub serves at `/` under a strict CSP: so no inline scripts, no CDN.
 *  - `vite` (npm run dev) proxies the hub's doors to a running hub: FIELDLINK_HUB,
 *    default http://127.0.0.1:8080.
 *  - `source` condition: @fieldlink/protocol is bundled from its TypeScript source,
 *    so the dashboard never needs the protocol package built first.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig, defaultClientConditions } from 'vite';

const hub = process.env.FIELDLINK_HUB ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  resolve: { conditions: ['source', ...defaultClientConditions] },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../hub/public', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    // Inline nothing: CSP forbids data: scripts, and small assets are few anyway.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: {
    proxy: {
      '/ws': { target: hub, ws: true },
      '/mqtt': { target: hub, ws: true },
      '/api': { target: hub },
      '/healthz': { target: hub },
    },
  },
});
