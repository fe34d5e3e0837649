// `fieldlink hub --alerts-file` as users run it: a bad file at start is one line
// and exit code 2; SIGHUP re-reads the file, and a broken edit keeps the running rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { until } from '../helpers.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const env = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FIELDLINK_')));
const hubArgs = (dir: string, file: string) => ['hub', '--port', '0', '--mqtt-port', '-1', '--store', `sqlite:${join(dir, 'hub.db')}`, '--alerts-file', file];

test('a bad alerts file at start: one line naming the rule and field, exit code 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fl-alerts-cli-'));
  const file = join(dir, 'alerts.yaml');
  writeFileSync(file, 'rules:\n  - { name: dark, kind: threshold, metric: lux }\n');
  try {
    const p = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, ...hubArgs(dir, file)], { env: env() });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => p.on('exit', r));
    assert.equal(code, 2);
    assert.match(stderr, /^fieldlink: .*"dark": a threshold rule needs exactly one of "above" or "below"/);
    assert.doesNotMatch(stderr, /\n\s+at /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SIGHUP re-reads the alerts file; a broken edit is logged and the running rules stay', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fl-alerts-cli-'));
  const file = join(dir, 'alerts.yaml');
  writeFileSync(file, 'rules:\n  - { name: a, kind: absence, for: 1h }\n');
  const p = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, ...hubArgs(dir, file)], { env: env() });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => p.on('exit', r));
  try {
    await until(() => /dashboard\s+http:\/\/\S+:\d+\//.test(out), 20_000, 'hub started');
    const base = /dashboard\s+(http:\/\/\S+:\d+)\//.exec(out)![1]!;
    const names = async () => ((await (await fetch(`${base}/api/v1/alerts/rules`)).json()) as { rules: { name: string }[] }).rules.map((r) => r.name);
    assert.deepEqual(await names(), ['a']);
    writeFileSync(file, 'rules:\n  - { name: a, kind: absence, for: 1h }\n  - { name: b, kind: absence, for: 2h }\n');
    p.kill('SIGHUP');
    let got: string[] = [];
    const end = Date.now() + 10_000;
    while ((got = await names()).length !== 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(got, ['a', 'b']);
    writeFileSync(file, 'rules: [ { name: c } ]\n');
    p.kill('SIGHUP');
    await until(() => out.includes('alerts file reload failed'), 10_000, 'reload failure logged');
    assert.deepEqual(await names(), ['a', 'b']);
    p.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
