#!/usr/bin/env node
// Runs every *.test.ts under packages/*/test and test/ with Node's test runner
// (Node 20 has no glob support in --test). Extra arguments filter by path substring.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const roots = ['packages/protocol/test', 'packages/hub/test', 'packages/device/test', 'packages/dashboard/test', 'test'];
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
const r = spawnSync(process.execPath, [
  '--conditions=source', '--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=180000',
  '--test-reporter=spec', ...selected.sort(),
], { stdio: 'inherit' });
process.exit(r.status ?? 1);
