/** SQLite for tests: each harness gets its own temp dir with one database file, removed by `destroy()`. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/storage/sqlite.js';
import type { StoreHarness } from './contract.js';

export async function sqliteHarness(): Promise<StoreHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'fl-sqlite-'));
  return {
    async open() {
      const s = new SqliteStore({ path: join(dir, 'test.db') });
      await s.init();
      return s;
    },
    destroy: () => rm(dir, { recursive: true, force: true }),
  };
}
