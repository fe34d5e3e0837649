/**
 * The Eclipse Paho interoperability suites against a broker, as issue 12 checks
 * them: `interoperability/client_test.py` (MQTT 3.1.1, all tests in one process)
 * and `client_test5.py` (MQTT 5.0, each test in its own process, so one test's
 * leftovers never fail the next; test_flow_control2 is among them and also
 * reported on its own line). The suite stays where it was cloned (--suite, default
 * /work/ext/paho.mqtt.testing or $PAHO_SUITE); nothing of it is copied here.
 *
 *   npm run paho -- [--target fieldlink|mosquitto|aedes] [--engine core|aedes] [--ws]
 *     [--profile paho|default] [--suite DIR] [--only 311|5] [--tests a,b] [--acl-file F] [--json F]
 *
 * fieldlink: the hub from source (`--mqtt-port -1`, no store, anonymous admin on
 * loopback, `--acl-file` with the rules of issue 12 item 5: everything allowed but
 * SUBSCRIBE to test/nosubscribe). mosquitto: Debian's binary with a temporary
 * config holding the same rule. aedes: bare Aedes 1.2 (bench/servers/aedes.ts; no
 * access rules). --ws relays each of the suite's TCP connections over a WebSocket
 * (subprotocol `mqtt`) to the target's MQTT-over-WebSocket door (paho/relay.ts).
 * Prints a Markdown table of every test and the totals; exit code 0 unless the
 * runner itself failed (failing tests are results, not errors).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBroker, type Broker, type Target } from './paho/targets.js';
import { startRelay } from './paho/relay.js';

const argv = process.argv.slice(2);
const KNOWN = new Set(['--target', '--engine', '--ws', '--profile', '--suite', '--only', '--tests', '--acl-file', '--json', '--timeout']);
const unknown = argv.filter((a) => a.startsWith('--') && !KNOWN.has(a));
if (argv.includes('--help') || unknown.length) {
  if (unknown.length && !argv.includes('--help')) console.error(`unknown option(s): ${unknown.join(' ')}`);
  console.log(`npm run paho -- [options]   (Markdown on stdout, progress on stderr)
  --target T      fieldlink (default), mosquitto or aedes
  --engine E      fieldlink only: --mqtt-engine core|aedes (default: the hub's default)
  --profile P     fieldlink only: --mqtt-profile paho|default (default: paho)
  --ws            relay the suite's TCP connections over MQTT-over-WebSocket (/mqtt)
  --only V        311 or 5: one suite only
  --tests a,b     only these test names (e.g. test_basic,test_will_delay)
  --acl-file F    fieldlink only: access rules instead of issue 12's file
  --suite DIR     the paho.mqtt.testing clone (default $PAHO_SUITE or /work/ext/paho.mqtt.testing)
  --timeout S     seconds one suite process may take (default 120)
  --json F        also write the results as JSON to F`);
  process.exit(argv.includes('--help') ? 0 : 2);
}
const opt = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const target = (opt('--target') ?? 'fieldlink') as Target;
if (!['fieldlink', 'mosquitto', 'aedes'].includes(target)) throw new Error(`--target ${target}: fieldlink, mosquitto or aedes`);
const profile = opt('--profile') ?? 'paho';
const engine = opt('--engine');
const ws = argv.includes('--ws');
const suiteDir = join(opt('--suite') ?? process.env.PAHO_SUITE ?? '/work/ext/paho.mqtt.testing', 'interoperability');
const only = opt('--only');
const chosen = opt('--tests')?.split(',');
const timeoutMs = Number(opt('--timeout') ?? 120) * 1000;
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const DRIVER = fileURLToPath(new URL('./paho/driver.py', import.meta.url));
if (!existsSync(join(suiteDir, 'client_test5.py'))) throw new Error(`no Paho suite at ${suiteDir} (--suite DIR)`);

type Outcome = { result: 'pass' | 'fail' | 'error' | 'timeout' | 'crash'; why?: string };

/** One suite process: the driver prints `PAHO_RESULT {json}`; a process that dies or hangs fails the tests it was given. */
function runSuite(file: string, port: number, tests: string[]): Promise<Record<string, Outcome>> {
  return new Promise((resolve) => {
    const child = spawn(PYTHON, [DRIVER, file, String(port), ...tests.map((t) => `Test.${t}`)], { cwd: suiteDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    running = child;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', () => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('PAHO_RESULT '));
      const got = line ? (JSON.parse(line.slice(12)) as Record<string, Outcome>) : {};
      const setup = got._setup;
      delete got._setup;
      for (const t of tests) {
        got[t] ??= setup ?? (timedOut ? { result: 'timeout', why: `no result after ${timeoutMs / 1000} s` } : { result: 'crash', why: err.trim().split('\n').pop() ?? '' });
      }
      resolve(got);
    });
  });
}

/** Test method names of a suite file, in file order (the suite itself is the list). */
async function testNames(file: string): Promise<string[]> {
  const { readFileSync } = await import('node:fs');
  return [...readFileSync(join(suiteDir, file), 'utf8').matchAll(/^ {4}def (test\w+)\(self\)/gm)].map((m) => m[1]!);
}

let running: ChildProcess | undefined;
const dir = mkdtempSync(join(tmpdir(), 'fl-paho-'));
let broker: Broker | undefined;
// Interrupted: stop the suite process and the broker this runner started (by their PIDs), then exit.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    running?.kill('SIGKILL');
    void (broker?.stop() ?? Promise.resolve()).finally(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(130);
    });
  });
}
const results: Record<string, Record<string, Outcome>> = {};
try {
  broker = await startBroker(target, { dir, engine, profile, aclFile: opt('--acl-file') });
  const relay = ws ? await startRelay(broker.wsUrl) : undefined;
  const port = relay?.port ?? broker.mqttPort;
  const label = `${target}${engine ? ` (${engine})` : ''}${target === 'fieldlink' ? `, profile ${profile}` : ''}, ${ws ? 'MQTT over WebSocket' : 'TCP'}`;
  console.error(`paho: ${label}: ${broker.version}`);
  if (only !== '5') {
    const names = (await testNames('client_test.py')).filter((t) => !chosen || chosen.includes(t));
    console.error(`paho: client_test.py (3.1.1), ${names.length} tests in one process`);
    results['3.1.1'] = names.length ? await runSuite('client_test.py', port, names) : {};
  }
  if (only !== '311') {
    const names = (await testNames('client_test5.py')).filter((t) => !chosen || chosen.includes(t));
    results['5.0'] = {};
    for (const t of names) {
      console.error(`paho: client_test5.py ${t}`);
      Object.assign(results['5.0'], await runSuite('client_test5.py', port, [t]));
      console.error(`paho:   ${results['5.0'][t]!.result}`);
    }
  }
  await relay?.close();
  console.log(report(label, broker.version, results));
  const json = opt('--json');
  if (json) writeFileSync(json, JSON.stringify({ target, engine, profile, ws, version: broker.version, results }, null, 2));
} finally {
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
}

function report(label: string, version: string, r: typeof results): string {
  const lines = [`### Paho interoperability: ${label}`, '', `Broker: ${version}`, ''];
  for (const [suite, tests] of Object.entries(r)) {
    const rows = Object.entries(tests);
    const passed = rows.filter(([, o]) => o.result === 'pass').length;
    lines.push(`| MQTT ${suite} test | result | why |`, '|---|---|---|');
    for (const [t, o] of rows) lines.push(`| ${t} | ${o.result} | ${(o.why ?? '').replaceAll('|', '\\|')} |`);
    lines.push('', `**MQTT ${suite}: ${passed}/${rows.length} passed**`, '');
  }
  return lines.join('\n');
}
