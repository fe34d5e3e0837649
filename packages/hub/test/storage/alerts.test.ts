// The AlertStore contract (storage/alerts.ts), run against SQLite and PostgreSQL:
// lifecycle rows replaced by id, history by time range and filters newest first,
// the firing set a restart restores, API rules, and data surviving a reopen.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/storage/sqlite.js';
import { PostgresStore } from '../../src/storage/postgres.js';
import { postgresAlerts, sqliteAlerts, type AlertStore } from '../../src/storage/alerts.js';
import type { Alert } from '../../src/services/alerts/engine.js';
import { PG_URL, dropSchema, randomSchema, requirePostgres } from './pg-harness.js';

interface Harness { open(): Promise<AlertStore>; destroy(): Promise<void> }

const T0 = Date.UTC(2026, 0, 1);
const mk = (i: number, over: Partial<Alert> = {}): Alert => ({
  id: `a${i}`, rule: i % 2 ? 'dark' : 'silent', device: `gh-${i % 3}`, kind: i % 2 ? 'threshold' : 'absence', state: 'firing',
  value: i % 2 ? i * 1.5 : null, message: `alert ${i} «ünïcode»`, firedAt: T0 + i * 1000, resolvedAt: null, ackedAt: null, ackedBy: null, ...over,
});

function contract(name: string, harness: () => Promise<Harness>) {
  const withStore = (fn: (s: AlertStore, h: Harness) => Promise<void>) => async () => {
    const h = await harness();
    let s = await h.open();
    try {
      await fn(s, { ...h, open: async () => (s = await h.open()) });
    } finally {
      await s.close();
      await h.destroy();
    }
  };
  describe(`AlertStore contract: ${name}`, () => {
    it('saves, replaces by id (resolve, acknowledge) and reads back exactly', withStore(async (s) => {
      const a = mk(1);
      await s.saveAlert(a);
      assert.deepEqual(await s.getAlert('a1'), a);
      const done = { ...a, state: 'resolved' as const, resolvedAt: T0 + 5000, ackedAt: T0 + 3000, ackedBy: 'olga' };
      await s.saveAlert(done);
      assert.deepEqual(await s.getAlert('a1'), done);
      assert.equal(await s.getAlert('nope'), undefined);
    }));

    it('answers history by range and filters, newest first, limited; lists the firing set', withStore(async (s) => {
      const all = Array.from({ length: 12 }, (_, i) => mk(i, i < 4 ? { state: 'resolved', resolvedAt: T0 + i * 1000 + 1 } : {}));
      for (const a of all) await s.saveAlert(a);
      const desc = (xs: Alert[]) => [...xs].sort((x, y) => y.firedAt - x.firedAt);
      assert.deepEqual(await s.alerts({ from: T0, to: T0 + 60_000, limit: 100 }), desc(all));
      assert.deepEqual(await s.alerts({ from: T0 + 2000, to: T0 + 5000, limit: 100 }), desc(all.slice(2, 6)));
      assert.deepEqual(await s.alerts({ from: T0, to: T0 + 60_000, limit: 3 }), desc(all).slice(0, 3));
      assert.deepEqual(await s.alerts({ from: T0, to: T0 + 60_000, rule: 'dark', device: 'gh-1', limit: 100 }), desc(all.filter((a) => a.rule === 'dark' && a.device === 'gh-1')));
      assert.deepEqual(await s.alerts({ from: T0, to: T0 + 60_000, state: 'resolved', limit: 100 }), desc(all.slice(0, 4)));
      assert.deepEqual(await s.firing(), all.slice(4));
    }));

    it('keeps rules made over the API, replacing by name, and everything across a reopen', withStore(async (s, h) => {
      await s.putRule({ name: 'b', body: '{"x":1}', updatedAt: 1 });
      await s.putRule({ name: 'a', body: '{"x":2}', updatedAt: 2 });
      await s.putRule({ name: 'b', body: '{"x":3}', updatedAt: 3 });
      assert.deepEqual(await s.rules(), [{ name: 'a', body: '{"x":2}', updatedAt: 2 }, { name: 'b', body: '{"x":3}', updatedAt: 3 }]);
      assert.equal(await s.removeRule('a'), true);
      assert.equal(await s.removeRule('a'), false);
      await s.saveAlert(mk(7));
      await s.close();
      const again = await h.open();
      assert.deepEqual(await again.rules(), [{ name: 'b', body: '{"x":3}', updatedAt: 3 }]);
      assert.deepEqual(await again.firing(), [mk(7)]);
    }));
  });
}

contract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fl-alerts-'));
  const path = join(dir, 'a.db');
  const store = new SqliteStore({ path }); // the hub's order: the store migrates first
  await store.init();
  await store.close();
  return { open: async () => sqliteAlerts(path), destroy: () => rm(dir, { recursive: true, force: true }) };
});

// No PostgreSQL is a failure with what to do (requirePostgres), never a skip.
contract('postgres', async () => {
  await requirePostgres();
  const schema = randomSchema();
  const store = new PostgresStore({ url: PG_URL, schema });
  await store.init();
  await store.close();
  return { open: async () => postgresAlerts(PG_URL, schema), destroy: () => dropSchema(schema) };
});
