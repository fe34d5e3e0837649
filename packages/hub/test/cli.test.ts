/**
 * The `fieldlink` command as users run it: help, one-line errors, config
 * sources, and a graceful stop on SIGTERM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

interface Run { code: number | null; stdout: string; stderr: string }

function fieldlink(args: string[], opts: { env?: Record<string, string>; until?: (out: string) => boolean; signal?: NodeJS.Signals } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
    for (const k of Object.keys(env)) if (k.startsWith('FIELDLINK_') && !opts.env?.[k]) delete env[k];
    const p = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, ...args], { env });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    const check = () => {
      if (!signalled && opts.until?.(stdout + stderr)) {
        signalled = true;
        p.kill(opts.signal ?? 'SIGTERM');
      }
    };
    p.stdout.on('data', (d: Buffer) => ((stdout += d.toString()), check()));
    p.stderr.on('data', (d: Buffer) => ((stderr += d.toString()), check()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('--help lists the roles and a role lists its options', async () => {
  const top = await fieldlink(['--help']);
  assert.equal(top.code, 0);
  assert.match(top.stdout, /hub\s+Run the hub/);
  const hub = await fieldlink(['hub', '--help']);
  assert.equal(hub.code, 0);
  for (const flag of ['--host', '--port', '--mqtt-port', '--data-dir', '--simulate', '--log-level']) assert.ok(hub.stdout.includes(flag), flag);
});

test('bad options give one line on stderr and exit code 2, never a stack trace', async () => {
  for (const args of [['hub', '--bogus'], ['hub', '--port', 'eighty'], ['hub', '--port', '70000'], ['hub', '--log-level', 'loud'], ['fly']]) {
    const r = await fieldlink(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.match(r.stderr.split('\n')[0]!, /^fieldlink: /);
  }
});

test('a port already in use names the option to change', async () => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const port = (blocker.address() as net.AddressInfo).port;
  const r = await fieldlink(['hub', '--port', String(port), '--mqtt-port', '-1', '--store', 'none', '--log-level', 'silent']);
  blocker.close();
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`port ${port} .*in use.*--port`));
  const r2 = await fieldlink(['hub', '--port', '0', '--mqtt-port', String(port), '--store', 'none'], { until: (out) => out.includes('hub listening') });
  assert.equal(r2.code, 0, 'with the port free again the hub starts, and stops cleanly on SIGTERM');
});

test('environment and config file feed the same options; unknown keys warn; SIGTERM stops with exit 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fl-cli-'));
  const cfgFile = join(dir, 'hub.yaml');
  writeFileSync(cfgFile, 'mqttPort: 0\nstore: none\nmystery: 1\n');
  const r = await fieldlink(['hub', '--config', cfgFile, '--port', '0'], {
    env: { FIELDLINK_LOG_LEVEL: 'info', FIELDLINK_NOPE: 'x' },
    until: (out) => out.includes('hub listening'),
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /unknown key \\"mystery\\"|unknown key "mystery"/);
  assert.match(r.stdout, /unknown variable FIELDLINK_NOPE/);
  assert.match(r.stdout, /"mqttPort":-1/, 'mqttPort 0 in the file disabled MQTT/TCP');
  assert.match(r.stdout, /hub stopped/);
});

test('config defaults prints every option as YAML', async () => {
  const r = await fieldlink(['config', 'defaults']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^port: 8080$/m);
  assert.match(r.stdout, /^host: "127.0.0.1"$/m);
});

test('a non-loopback --host is refused without --allow-anonymous, and warned about with it', async () => {
  const refused = await fieldlink(['hub', '--host', '0.0.0.0', '--port', '0', '--mqtt-port', '-1', '--store', 'none']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /--allow-anonymous/);
  const allowed = await fieldlink(['hub', '--host', '0.0.0.0', '--allow-anonymous', '--port', '0', '--mqtt-port', '-1', '--store', 'none'], {
    until: (out) => out.includes('hub listening'),
  });
  assert.equal(allowed.code, 0);
  assert.match(allowed.stdout, /anonymous admin access/);
});
