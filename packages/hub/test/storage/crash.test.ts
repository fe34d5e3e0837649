// Restart safety: SIGKILL a process that is ingesting into SQLite (writer thread
// mid-transaction), reopen the file, and find it intact with every acknowledged batch.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { openStore } from '../../src/storage/index.js';

const CHILD = fileURLToPath(new URL('./fixtures/ingest-child.ts', import.meta.url));
const PER = 1000, T0 = Date.UTC(2025, 0, 1);

/** Run the child until it has acknowledged `minAcks` batches (and then a little more), SIGKILL it; resolves to the acked batch numbers. */
function ingestThenKill(path: string, start: number, minAcks: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', CHILD, path, String(start)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acked: number[] = [];
    let buf = '';
    let killing = false;
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) if (l.startsWith('ack ')) acked.push(Number(l.slice(4)));
      if (!killing && acked.length >= minAcks) {
        killing = true;
        // A random moment within the next few transactions, not right at an ack.
        setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 15));
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve(acked) : reject(new Error(`child exited on its own: ${code} ${signal}`))));
  });
}

describe('SQLite after kill -9 during ingest', () => {
  it('is intact and holds every acknowledged batch, each whole', { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fl-crash-'));
    const path = join(dir, 'crash.db');
    try {
      for (const round of [0, 1]) {
        const acked = await ingestThenKill(path, round * 100_000, 30 + round * 20);
        assert.ok(acked.length >= 30, `round ${round}: ${acked.length} acks`);
        const db = new Database(path);
        try {
          assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
          // Per batch: all of its points or none (append is atomic), and all of them when acked.
          const rows = db.prepare(`SELECT (ts - ${T0}) / ${PER} AS n, count(*) AS c FROM points GROUP BY 1`).all() as { n: number; c: number }[];
          const have = new Map(rows.map((r) => [Math.floor(r.n), r.c]));
          for (const [n, c] of have) assert.equal(c, PER, `batch ${n} partly stored: ${c} points`);
          for (const n of acked) assert.equal(have.get(n), PER, `acknowledged batch ${n} missing after kill -9 (round ${round})`);
          // Rollups agree with the points they summarise.
          const [p, r] = [db.prepare('SELECT count(*) AS c FROM points').get(), db.prepare('SELECT sum(n) AS c FROM rollups_hourly').get()] as { c: number }[];
          assert.equal(r!.c, p!.c);
        } finally {
          db.close();
        }
        // The store opens and keeps working on the recovered file (the next round appends to it again).
        const s = await openStore({ url: `sqlite:${path}` });
        assert.ok((await s.count({ device: 'd0', metric: 'm0', from: 0, to: T0 + 1e9 })) > 0 || acked.every((n) => n % 7 !== 0));
        await s.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
