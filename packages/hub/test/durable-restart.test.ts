// Broker state (core engine) across clean restarts and kill -9 of a real hub process on
// SQLite, the default store: durable-suite.ts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { restartSuite } from './durable-suite.js';

restartSuite('SQLite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fl-durable-'));
  return { args: ['--data-dir', dir], sqlitePath: join(dir, 'fieldlink.db'), cleanup: () => rm(dir, { recursive: true, force: true }) };
});
