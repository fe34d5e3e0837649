/**
 * The pieces of revocation without sockets: session lifetimes on a fake clock,
 * the live-connection registry (filing, bound, expiry, the mark that catches a
 * change racing an authentication), and the watcher against a real (in-memory
 * SQLite) identity store.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { Sessions } from '../../src/auth/sessions.js';
import { LiveConnections, subjectsOf } from '../../src/auth/live.js';
import { startRevocationWatch } from '../../src/auth/revocation.js';
import { generation } from '../../src/auth/secrets.js';
import type { Identity } from '../../src/auth/acl.js';
import { sqliteIdentities } from '../../src/storage/identities.js';
import { createLogger } from '../../src/log.js';
import { until } from '../helpers.js';

const H = 3_600_000;
const req = (id: string) => ({ headers: { cookie: `other=1; fl_session=${id}` } }) as unknown as IncomingMessage;
const ann: Identity = { kind: 'user', id: 'ann', role: 'operator', user: 'ann', credential: 'password:aaaa' };

describe('sessions', () => {
  it('slide on use up to the idle timeout, and end at the absolute maximum however busy', () => {
    let t = 1_000_000;
    const s = new Sessions({ idleMs: 2 * H, maxAgeMs: 5 * H, now: () => t });
    const id = s.create(ann);
    assert.equal(s.fromRequest(req(id))?.expiresAt, 1_000_000 + 5 * H, 'the identity carries the session\'s end');
    for (let i = 0; i < 4; i++) {
      t += 1.5 * H; // each use within the idle timeout slides it…
      assert.equal(s.fromRequest(req(id))?.id, i < 3 ? 'ann' : undefined, `use ${i}`);
    }
    assert.equal(s.counters.expired, 1, '…until the maximum age');
    const idle = s.create(ann);
    t += 2 * H + 1;
    assert.equal(s.fromRequest(req(idle)), undefined, 'idle too long');
    assert.match(s.cookie(idle, true), /Max-Age=7200; Secure$/);
  });

  it('a token-made identity keeps its earlier expiry; revokeWhere ends only what it picks; the bound evicts the oldest', () => {
    let t = 0;
    const s = new Sessions({ max: 3, now: () => t });
    assert.equal(s.fromRequest(req(s.create({ ...ann, expiresAt: 10 })))?.expiresAt, 10);
    const ids = ['a', 'b', 'c'].map((u) => s.create({ ...ann, id: u }));
    assert.equal(s.size, 3);
    assert.equal(s.counters.evicted, 1, 'the oldest made room');
    assert.equal(s.revokeWhere((i) => i.id === 'b'), 1);
    assert.deepEqual(ids.map((id) => s.fromRequest(req(id))?.id), ['a', undefined, 'c']);
    t = 25 * H;
    s.sweep();
    assert.equal(s.size, 0);
  });
});

describe('live connections', () => {
  it('file a connection under each subject a change can name; anonymous ones are not filed', () => {
    assert.deepEqual(subjectsOf({ kind: 'device', id: 'd1', role: 'device', credential: 'token:T1' }), ['token:T1', 'device:d1']);
    assert.deepEqual(subjectsOf({ kind: 'token', id: 'T2', role: 'viewer', user: 'ann', credential: 'token:T2' }), ['token:T2', 'user:ann']);
    assert.deepEqual(subjectsOf(ann), ['user:ann']);
    const live = new LiveConnections(2);
    assert.ok(live.register('mqtt', { kind: 'anonymous', id: 'anonymous', role: 'admin' }, () => assert.fail()));
    assert.equal(live.size, 0);
    const closed: string[] = [];
    const h1 = live.register('ws', ann, (r) => closed.push(`ann:${r}`))!;
    live.register('mqtt', { kind: 'device', id: 'd1', role: 'device', credential: 'secret:x', expiresAt: 50 }, (r) => closed.push(`d1:${r}`));
    assert.equal(live.register('ws', ann, () => undefined), undefined, 'full: refused');
    assert.equal(live.refused, 1);
    assert.equal(live.expire(49), 0);
    assert.equal(live.expire(50), 1);
    assert.equal(live.closeWhere('user:ann', () => false, 'revoked'), 0);
    h1.unregister();
    h1.unregister();
    assert.equal(live.size, 0);
    assert.deepEqual(closed, ['d1:expired']);
    assert.deepEqual(live.closed, { 'mqtt:expired': 1 });
  });

  it('a registration whose credentials were read before a change the watcher already applied asks for a re-check', () => {
    const live = new LiveConnections();
    const asked: string[][] = [];
    live.onChanged = (keys) => asked.push([...keys]);
    const mark = live.mark();
    live.noted(1, 'user:bob');
    live.register('ws', ann, () => undefined, mark);
    assert.deepEqual(asked, [], 'a change to someone else');
    live.noted(2, 'user:ann');
    live.register('ws', ann, () => undefined, live.mark());
    assert.deepEqual(asked, [], 'a mark taken after the change');
    live.register('ws', ann, () => undefined, mark);
    assert.deepEqual(asked, [['user:ann']]);
    for (let i = 3; i < 1100; i++) live.noted(i, `device:x${i}`);
    live.settle(ann, 2);
    assert.deepEqual(asked.length, 2, 'older than what is remembered: re-check anyway');
  });
});

describe('revocation watch (in-memory SQLite identities)', () => {
  it('closes what the current record no longer covers, and catches a registration that raced the change', async () => {
    const ids = sqliteIdentities(':memory:');
    const live = new LiveConnections();
    const sessions = new Sessions();
    const watch = await startRevocationWatch(ids, live, sessions, createLogger('silent'), { pollMs: 60_000 });
    try {
      await ids.putDevice({ id: 'd1', secretHash: 'sha256$old', createdAt: 1 });
      await ids.putUser({ name: 'ann', passwordHash: 'scrypt$1', role: 'operator', createdAt: 1 });
      const asDevice = (hash: string): Identity => ({ kind: 'device', id: 'd1', role: 'device', credential: `secret:${generation(hash)}` });
      const annNow: Identity = { ...ann, credential: `password:${generation('scrypt$1', 'operator')}` };
      const closed: string[] = [];
      live.register('mqtt', asDevice('sha256$old'), () => closed.push('old'));
      live.register('mqtt', { kind: 'device', id: 'd1', role: 'device', credential: 'cert' }, () => closed.push('cert'));
      live.register('ws', annNow, () => closed.push('ann'));
      const sid = sessions.create(annNow);
      const mark = live.mark();
      await ids.putDevice({ id: 'd1', secretHash: 'sha256$new', createdAt: 1 });
      await ids.putUser({ name: 'ann', passwordHash: 'scrypt$1', role: 'viewer', createdAt: 1 }); // a role change ends her sessions too
      await watch.poll();
      assert.deepEqual(closed.sort(), ['ann', 'old'], 'the rotated secret and the changed user; the certificate stays');
      assert.equal(sessions.fromRequest(req(sid)), undefined);
      // authenticated before the rotation was applied, filed after: caught by its mark
      live.register('ws_device', asDevice('sha256$old'), () => closed.push('late'), mark);
      await until(() => closed.includes('late'), 5000, 'late registration re-checked');
      live.register('mqtt', asDevice('sha256$new'), () => closed.push('new'), mark);
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(!closed.includes('new'), 'a connection with the current secret is spared, whatever its mark');
      await ids.removeDevice('d1');
      await watch.poll();
      assert.ok(closed.includes('cert') && closed.includes('new'), 'removal ends certificate connections too');
      assert.equal(watch.stats.pollErrors, 0);
      assert.equal(live.size, 0);
    } finally {
      await watch.stop();
      await ids.close();
    }
  });

  it('a gap in the log (events pruned before this hub read them) re-checks every live identity', async () => {
    const ids = sqliteIdentities(':memory:');
    const live = new LiveConnections();
    const watch = await startRevocationWatch(ids, live, new Sessions(), createLogger('silent'), { pollMs: 60_000 });
    try {
      await ids.putDevice({ id: 'd1', secretHash: 'sha256$old', createdAt: 1 });
      await ids.putDevice({ id: 'd2', secretHash: 'sha256$two', createdAt: 1 });
      const closed: string[] = [];
      const as = (id: string, hash: string): Identity => ({ kind: 'device', id, role: 'device', credential: `secret:${generation(hash)}` });
      live.register('mqtt', as('d1', 'sha256$old'), () => closed.push('d1'));
      live.register('mqtt', as('d2', 'sha256$two'), () => closed.push('d2'));
      await ids.putDevice({ id: 'd1', secretHash: 'sha256$new', createdAt: 1 });
      assert.equal(await ids.pruneEvents(Date.now() + 1000), 1, 'the rotation is gone before the hub read it');
      await ids.putUser({ name: 'x', passwordHash: 'a', role: 'viewer', createdAt: 1 });
      await ids.removeUser('x'); // a later event shows the gap
      await watch.poll();
      assert.deepEqual(closed, ['d1'], 'the stale connection is found anyway; the current one stays');
    } finally {
      await watch.stop();
      await ids.close();
    }
  });
});
