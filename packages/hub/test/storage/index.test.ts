import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/storage/index.js';
import { PG_URL, dropSchema, randomSchema, requirePostgres } from './pg-harness.js';

describe('openStore', () => {
  it('opens SQLite at <dataDir>/fieldlink.db by default, creating the directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fl-open-'));
    const s = await openStore({ dataDir: join(dir, 'nested', 'data') });
    try {
      assert.equal(s.kind, 'sqlite');
      assert.ok(existsSync(join(dir, 'nested', 'data', 'fieldlink.db')));
    } finally {
      await s.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('opens SQLite at a sqlite: path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fl-open-'));
    const s = await openStore({ url: `sqlite:${join(dir, 'x', 'my.db')}`, dataDir: '/nonexistent-unused' });
    try {
      assert.equal(s.kind, 'sqlite');
      assert.ok(existsSync(join(dir, 'x', 'my.db')));
    } finally {
      await s.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('opens PostgreSQL for postgres:// and postgresql:// urls, in the given schema', async () => {
    await requirePostgres();
    const schema = randomSchema();
    try {
      for (const url of [PG_URL, PG_URL.replace(/^postgres:/, 'postgresql:')]) {
        const s = await openStore({ url, schema });
        assert.equal(s.kind, 'postgres');
        await s.append([{ device: 'd', metric: 'm', ts: 1, value: 2 }]);
        assert.equal(await s.count({ device: 'd', metric: 'm', from: 0, to: 10 }), 1);
        await s.close();
      }
    } finally {
      await dropSchema(schema);
    }
  });

  it('rejects unknown schemes and unreachable servers with readable errors', async () => {
    await assert.rejects(openStore({ url: 'mysql://u:pw@h/db' }), (e: Error) => /unsupported store url scheme/.test(e.message) && !e.message.includes('pw'));
    await assert.rejects(openStore({ url: 'sqlite:' }), /needs a path/);
    await assert.rejects(openStore({ url: 'postgres://u:pw@127.0.0.1:1/db' }), (e: Error) => /unreachable/.test(e.message) && !e.message.includes('pw'));
  });
});
