/**
 * Crash soak (issue 13): the crash harness of test/e2e/crash.test.ts, 20 rounds.
 * The hub (SQLite) is killed with `kill -9` at a random moment of each round
 * under QoS 1 and QoS 2 load from MQTT.js and Python paho devices, restarted,
 * and at the end every acknowledged message is looked up in the store file.
 * Prints a Markdown table: acknowledged, missing, duplicates per device, and
 * SQLite's integrity_check.
 * Run: npm run bench:crash -- [--rounds 20] [--min-ms 300] [--max-ms 2000] [--engine core|aedes]
 * `--engine aedes` shows what the promise is worth: Aedes acknowledges from memory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { crashRounds } from '../test/e2e/crash-harness.js';
import { PYTHON } from '../scripts/peers.mjs';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '20' }, 'min-ms': { type: 'string', default: '300' }, 'max-ms': { type: 'string', default: '2000' }, engine: { type: 'string', default: 'core' } } });
const dataDir = mkdtempSync(join(tmpdir(), 'fl-soak-'));
const t0 = Date.now();
try {
  const r = await crashRounds({
    dataDir, rounds: Number(values.rounds), minMs: Number(values['min-ms']), maxMs: Number(values['max-ms']), python: PYTHON,
    hubArgs: ['--mqtt-engine', values.engine!], v5: values.engine !== 'aedes', log: (l) => process.stderr.write(`${l}\n`),
  });
  console.log(`\n### Crash soak: ${r.rounds} × kill -9, --mqtt-engine ${values.engine}, SQLite (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
  console.log('| device | acknowledged | missing | duplicates | refused (v5) |');
  console.log('|---|---:|---:|---:|---:|');
  for (const x of r.rows) console.log(`| ${x.label} | ${x.acked} | ${x.missing} | ${x.duplicates} | ${x.refused} |`);
  const sum = (k: 'acked' | 'missing' | 'duplicates' | 'refused') => r.rows.reduce((n, x) => n + x[k], 0);
  console.log(`| **total** | ${sum('acked')} | ${sum('missing')} | ${sum('duplicates')} | ${sum('refused')} |`);
  console.log(`\nintegrity_check: ${r.integrity}`);
  process.exitCode = sum('missing') + sum('duplicates') === 0 && r.integrity === 'ok' ? 0 : 1;
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
