#!/usr/bin/env node
// Runs every *.test.ts under packages/*/test and test/ with Node's test runner
// (Node 20 has no glob support in --test). Extra arguments filter by path substring.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const roots = ['packages/protocol/test', 'packages/mqtt/test', 'packages/hub/test', 'packages/device/test', 'packages/dashboard/test', 'test'];
const files = [];
const walk = (dir) => {
  let entries;
  try { entries = readdirSync(dir); } catch { return; }
  for (const name of entries) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) { if (name !== 'node_modules' && name !== 'fixtures') walk(p); }
    else if (name.endsWith('.test.ts')) files.push(p);
  }
};
roots.forEach(walk);
const filters = process.argv.slice(2);
const selected = filters.length ? files.filter((f) => filters.some((s) => f.includes(s))) : files;
if (selected.length === 0) { console.error('no test files matched'); process.exit(1); }
const run = (list) =>
  spawnSync(process.execPath, [
    '--conditions=source', '--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=180000',
    '--test-reporter=spec', ...list,
  ], { stdio: 'inherit' }).status ?? 1;

// Headless-Chromium suites run last, in their own run: they are the slowest
// and the most sensitive to a loaded machine, so everything else reports first.
const isBrowser = (f) => /test\/e2e\/(dashboard|flask-app|tutorial)/.test(f);
const main = selected.filter((f) => !isBrowser(f)).sort();
const browser = selected.filter(isBrowser).sort();
let status = main.length ? run(main) : 0;
if (browser.length) { const b = run(browser); status ||= b; }
process.exit(status);
