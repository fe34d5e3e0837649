/**
 * Nothing acknowledged is lost (issue 13, design.md "An acknowledgement means
 * stored"): the hub (core engine, SQLite) killed with `kill -9` at random moments
 * under QoS 1 and QoS 2 load from MQTT.js and Python paho devices; after every
 * round the devices reconnect and resend. Every acknowledged message is in
 * history exactly once and the database passes integrity_check. The soak with
 * 20 rounds is `npm run bench:crash` (bench/crash-soak.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crashRounds } from './crash-harness.js';
import { pgCrashRounds, storeCutRun } from './crash-pg.js';
import { PYTHON, requirePeers } from './peers.js';

test('kill -9 under QoS 1/2 load, 3 rounds: every acknowledged message is in history exactly once', async (t) => {
  requirePeers(['python3-paho-mqtt']);
  const dataDir = mkdtempSync(join(tmpdir(), 'fl-crash-'));
  try {
    const r = await crashRounds({ dataDir, rounds: 3, minMs: 300, maxMs: 1500, python: PYTHON, hubArgs: ['--mqtt-engine', 'core'], log: (l) => t.diagnostic(l) });
    for (const row of r.rows) t.diagnostic(`${row.label}: ${row.acked} acknowledged, ${row.missing} missing, ${row.duplicates} duplicates`);
    for (const row of r.rows) assert.ok(row.acked > 0, `${row.label} was acknowledged at all`);
    assert.deepEqual(r.rows.map((x) => [x.device, x.missing, x.duplicates]), r.rows.map((x) => [x.device, 0, 0]));
    assert.equal(r.integrity, 'ok');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('kill -9 under QoS 1/2 load on PostgreSQL, 2 rounds: every acknowledged message is stored exactly once', async (t) => {
  requirePeers(['python3-paho-mqtt']);
  const dataDir = mkdtempSync(join(tmpdir(), 'fl-crash-pg-'));
  try {
    const r = await pgCrashRounds({ dataDir, rounds: 2, minMs: 300, maxMs: 1500, python: PYTHON, hubArgs: ['--mqtt-engine', 'core'], log: (l) => t.diagnostic(l) });
    for (const row of r.rows) t.diagnostic(`${row.label}: ${row.acked} acknowledged, ${row.missing} missing, ${row.duplicates} duplicates`);
    for (const row of r.rows) assert.ok(row.acked > 0, `${row.label} was acknowledged at all`);
    assert.deepEqual(r.rows.map((x) => [x.device, x.missing, x.duplicates]), r.rows.map((x) => [x.device, 0, 0]));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('PostgreSQL cut off behind a proxy: refusals while it is away, never an acknowledgement of something not stored', async (t) => {
  const r = await storeCutRun({ cutMs: 1500, log: (l) => t.diagnostic(l) });
  for (const row of r.rows) t.diagnostic(`${row.label}: ${row.acked} acknowledged, ${row.missing} missing, ${row.refused} refused`);
  assert.ok(r.refusedDuringCut > 0, 'v5 devices were told (0x80/0x97) while the store was away');
  assert.deepEqual(r.rows.map((x) => [x.device, x.missing, x.duplicates]), r.rows.map((x) => [x.device, 0, 0]));
});
