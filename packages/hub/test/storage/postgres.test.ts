import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PostgresStore } from '../../src/storage/postgres.js';
import { storeContract } from './contract.js';
import { pgAvailable, pgHarness } from './pg-harness.js';

if (await pgAvailable()) {
  storeContract('postgres', pgHarness);
} else {
  describe('Store contract: postgres', () => {
    it('needs a PostgreSQL server (set FIELDLINK_TEST_PG_URL)', { skip: 'PostgreSQL not reachable' }, () => undefined);
  });
}

describe('PostgresStore connection errors', () => {
  it('rejects init with a clear message, without the password, when the server is unreachable', async () => {
    const s = new PostgresStore({ url: 'postgres://fl:secret@127.0.0.1:1/none', connectTimeoutMs: 1000 });
    try {
      await assert.rejects(s.init(), (err: Error) => {
        assert.match(err.message, /PostgreSQL at postgres:\/\/fl:\*\*\*@127\.0\.0\.1:1\/none is unreachable/);
        assert.doesNotMatch(err.message, /secret/);
        return true;
      });
    } finally {
      await s.close();
    }
  });

  it('refuses a schema name that is not a plain identifier', () => {
    assert.throws(() => new PostgresStore({ url: 'postgres://x@127.0.0.1/test', schema: 'a"; DROP SCHEMA public; --' }), RangeError);
  });
});
