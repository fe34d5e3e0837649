/** The identity store, one suite on both backends (schema v3 of the store). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openIdentities, openStore, type StoreOptions } from '../../src/storage/index.js';
import { PG_URL, dropSchema, pgAvailable, randomSchema } from '../storage/pg-harness.js';

function suite(name: string, options: () => Promise<StoreOptions & { cleanup?: () => Promise<void> }>) {
  describe(`identities on ${name}`, () => {
    it('devices, users and tokens: put, get, list, update, revoke, remove; hostile names stay data', async () => {
      const opts = await options();
      const store = await openStore(opts);
      const ids = openIdentities(opts);
      try {
        assert.equal(await ids.hasAny(), false);
        const evil = "d'; DROP TABLE identity_devices; --";
        await ids.putDevice({ id: evil, secretHash: 'sha256$a', createdAt: 1 });
        await ids.putDevice({ id: 'd1', secretHash: 'sha256$b', createdAt: 2 });
        assert.equal(await ids.hasAny(), true);
        assert.equal((await ids.getDevice(evil))?.secretHash, 'sha256$a');
        await ids.putDevice({ id: 'd1', secretHash: 'sha256$c', createdAt: 99 });
        assert.deepEqual(await ids.getDevice('d1'), { id: 'd1', secretHash: 'sha256$c', createdAt: 2 }, 'rotation keeps createdAt');
        assert.deepEqual((await ids.listDevices()).map((d) => d.id).sort(), ['d1', evil].sort());
        assert.equal(await ids.removeDevice('d1'), true);
        assert.equal(await ids.removeDevice('d1'), false);
        await ids.putUser({ name: 'ann', passwordHash: 'scrypt$x', role: 'operator', createdAt: 3 });
        await ids.putUser({ name: 'ann', passwordHash: 'scrypt$y', role: 'admin', createdAt: 4 });
        assert.deepEqual(await ids.getUser('ann'), { name: 'ann', passwordHash: 'scrypt$y', role: 'admin', createdAt: 3 });
        assert.equal((await ids.listUsers()).length, 1);
        const t = { id: 'tok123456789', hash: 'sha256$t', name: 'grafana', role: 'viewer' as const, subject: null, createdAt: 5, expiresAt: 1e13, revokedAt: null };
        await ids.putToken(t);
        assert.deepEqual(await ids.getToken(t.id), t);
        assert.equal(await ids.revokeToken(t.id, 6), true);
        assert.equal(await ids.revokeToken(t.id, 7), false, 'revoking twice changes nothing');
        assert.equal((await ids.getToken(t.id))?.revokedAt, 6);
        assert.equal(await ids.getToken('nope'), undefined);
        assert.equal(await ids.removeUser('ann'), true);
      } finally {
        await ids.close();
        await store.close();
        await opts.cleanup?.();
      }
    });
  });
}

suite('SQLite', async () => ({ url: `sqlite:${join(mkdtempSync(join(tmpdir(), 'fl-ids-')), 'fl.db')}` }));

const pgUp = await pgAvailable();
if (pgUp || process.env.CI) {
  suite('PostgreSQL', async () => {
    const schema = randomSchema();
    return { url: PG_URL, schema, cleanup: () => dropSchema(schema) };
  });
} else {
  describe('identities on PostgreSQL', () => it('needs a PostgreSQL server (set FIELDLINK_TEST_PG_URL)', { skip: 'PostgreSQL not reachable' }, () => undefined));
}
