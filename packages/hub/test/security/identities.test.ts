/** The identity store and its change log, one suite on both backends. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openIdentities, openStore, type StoreOptions } from '../../src/storage/index.js';
import { PG_URL, dropSchema, randomSchema, requirePostgres } from '../storage/pg-harness.js';

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

    it('every change that ends access is logged, numbered, in its own transaction; unchanged writes log nothing', async () => {
      const opts = await options();
      const store = await openStore(opts);
      const ids = openIdentities(opts);
      const log = async (after: number) => (await ids.eventsAfter(after, 100)).map((e) => `${e.kind}:${e.id}:${e.reason}`);
      try {
        assert.equal(await ids.lastEventSeq(), 0);
        const t0 = Date.now();
        await ids.putDevice({ id: 'd1', secretHash: 'sha256$a', createdAt: 1 });
        await ids.putDevice({ id: 'd1', secretHash: 'sha256$a', createdAt: 1 }); // same secret: nothing ends
        await ids.putUser({ name: 'ann', passwordHash: 'scrypt$x', role: 'operator', createdAt: 1 });
        const tok = (id: string, role: 'viewer' | 'device', subject: string | null) => ({ id, hash: 'sha256$t', name: id, role, subject, createdAt: 1, expiresAt: null, revokedAt: null });
        await ids.putToken(tok('tokAnn000001', 'viewer', 'ann'));
        await ids.putToken(tok('tokDev000001', 'device', 'd1'));
        await ids.putToken(tok('tokOther0001', 'viewer', null));
        assert.equal(await ids.lastEventSeq(), 0, 'adding identities ends nobody\'s access');
        await ids.putDevice({ id: 'd1', secretHash: 'sha256$b', createdAt: 1 });
        await ids.putUser({ name: 'ann', passwordHash: 'scrypt$y', role: 'operator', createdAt: 1 });
        await ids.putUser({ name: 'ann', passwordHash: 'scrypt$y', role: 'viewer', createdAt: 1 });
        await ids.revokeToken('tokOther0001', 5);
        assert.deepEqual(await log(0), ['device:d1:rotated', 'user:ann:password', 'user:ann:role', 'token:tokOther0001:revoked']);
        const mark = await ids.lastEventSeq();
        await ids.removeDevice('d1');
        await ids.removeUser('ann');
        assert.deepEqual(await log(mark), ['device:d1:removed', 'token:tokDev000001:revoked', 'user:ann:removed', 'token:tokAnn000001:revoked'],
          'removing a device or user revokes the tokens acting for it, in the same transaction');
        assert.notEqual((await ids.getToken('tokDev000001'))?.revokedAt, null);
        assert.notEqual((await ids.getToken('tokAnn000001'))?.revokedAt, null);
        const all = await ids.eventsAfter(0, 100);
        assert.deepEqual(all.map((e) => e.seq), [...all.map((e) => e.seq)].sort((a, b) => a - b));
        assert.equal(new Set(all.map((e) => e.seq)).size, all.length);
        assert.ok(all.every((e) => e.at >= t0 - 1000 && e.at <= Date.now() + 1000), 'at is the time of the change, in ms');
        assert.equal((await ids.eventsAfter(0, 2)).length, 2, 'limit');
        assert.equal(await ids.pruneEvents(Date.now() + 1000), all.length);
        assert.deepEqual(await ids.eventsAfter(0, 100), []);
        await ids.putDevice({ id: 'd2', secretHash: 'sha256$a', createdAt: 1 });
        await ids.removeDevice('d2');
        assert.ok((await ids.lastEventSeq()) > all.at(-1)!.seq, 'seq keeps growing after a prune');
      } finally {
        await ids.close();
        await store.close();
        await opts.cleanup?.();
      }
    });
  });
}

suite('SQLite', async () => ({ url: `sqlite:${join(mkdtempSync(join(tmpdir(), 'fl-ids-')), 'fl.db')}` }));

suite('PostgreSQL', async () => {
  await requirePostgres(); // fails with what to do; never skips
  const schema = randomSchema();
  return { url: PG_URL, schema, cleanup: () => dropSchema(schema) };
});
