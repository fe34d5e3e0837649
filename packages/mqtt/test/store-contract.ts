/**
 * The one contract every EngineStore passes (store.ts states it). The durability
 * work runs it against SQLite and PostgreSQL:
 *
 *   storeContract('sqlite', async () => { const db = …; return { store: open(db), reopen: async () => open(db), cleanup } });
 *
 * `reopen` opens a second store on the same data, as a restarted process would;
 * everything recorded before `flush()` resolved must come back from its `load()`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EngineStore, StoredOutbound, StoredMessage } from '../src/index.js';

export interface StoreFixture {
  store: EngineStore;
  reopen(): Promise<EngineStore>;
  cleanup?(): Promise<void>;
}

const msg = (topic: string, payload: string, extra: Partial<StoredMessage> = {}): StoredMessage =>
  ({ topic, payload: Buffer.from(payload), qos: 1, retain: false, ts: 1_700_000_000_000, ...extra });

const out = (seq: number, state: StoredOutbound['state'], pid = 0): StoredOutbound =>
  ({ seq, msg: msg('t', `m${seq}`), qos: 1, retain: false, ids: seq % 2 ? [seq] : null, pid, state });

export function storeContract(name: string, make: () => Promise<StoreFixture>): void {
  const withStore = async (fn: (f: StoreFixture) => Promise<void>): Promise<void> => {
    const f = await make();
    try { await fn(f); } finally { await f.store.close(); await f.cleanup?.(); }
  };
  const reload = async (f: StoreFixture) => { await f.store.flush(); const s2 = await f.reopen(); const snap = await s2.load(); await s2.close(); return snap; };

  test(`${name}: an empty store loads empty`, () => withStore(async (f) => {
    assert.deepEqual(await reload(f), { sessions: [], retained: [] });
  }));

  test(`${name}: sessions with subscriptions, outbound in seq order, inbound ids, will survive a reopen`, () => withStore(async (f) => {
    const s = f.store;
    s.putSession({ clientId: 'c1', protocolVersion: 5, expirySec: 300, owner: { user: 'alice', roles: ['device'] } });
    s.putSubscription('c1', { key: 'a/#', qos: 1, nl: false, rap: true, rh: 1, id: 7 });
    s.putSubscription('c1', { key: '$share/g/b', qos: 2, nl: false, rap: false, rh: 0, id: 0 });
    s.putOutbound('c1', out(3, 'queued'));
    s.putOutbound('c1', out(1, 'publish', 10));
    s.putOutbound('c1', out(2, 'pubrel', 11));
    s.putInflightIn('c1', 5);
    s.putInflightIn('c1', 6);
    s.putWill('c1', { ...msg('w', 'gone', { retain: true, properties: { contentType: 'text/plain', userProperties: { a: '1', b: ['2', '3'] }, correlationData: Buffer.from([9]) } }), delaySec: 10 }, 1_700_000_010_000);
    s.setSessionExpiry('c1', 1_700_000_300_000);
    const snap = await reload(f);
    assert.equal(snap.sessions.length, 1);
    const c1 = snap.sessions[0]!;
    assert.equal(c1.clientId, 'c1');
    assert.equal(c1.protocolVersion, 5);
    assert.equal(c1.expirySec, 300);
    assert.deepEqual(c1.owner, { user: 'alice', roles: ['device'] });
    assert.equal(c1.expiresAt, 1_700_000_300_000);
    assert.deepEqual(c1.subscriptions.sort((a, b) => a.key.localeCompare(b.key)), [
      { key: '$share/g/b', qos: 2, nl: false, rap: false, rh: 0, id: 0 },
      { key: 'a/#', qos: 1, nl: false, rap: true, rh: 1, id: 7 },
    ]);
    assert.deepEqual(c1.outbound.map((o) => [o.seq, o.state, o.pid, o.msg.payload.toString(), o.ids]), [[1, 'publish', 10, 'm1', [1]], [2, 'pubrel', 11, 'm2', null], [3, 'queued', 0, 'm3', [3]]]);
    assert.deepEqual(c1.inflightIn.sort(), [5, 6]);
    assert.equal(c1.willAt, 1_700_000_010_000);
    assert.equal(c1.will?.delaySec, 10);
    assert.equal(c1.will?.retain, true);
    assert.deepEqual(c1.will?.properties?.userProperties, { a: '1', b: ['2', '3'] });
    assert.deepEqual(c1.will?.properties?.correlationData, Buffer.from([9]));
    assert.equal(c1.will?.payload.toString(), 'gone');
  }));

  test(`${name}: put of an existing key replaces; deletes remove`, () => withStore(async (f) => {
    const s = f.store;
    s.putSession({ clientId: 'c', protocolVersion: 4, expirySec: 10 });
    s.putSession({ clientId: 'c', protocolVersion: 5, expirySec: 20 });
    s.putSubscription('c', { key: 'x', qos: 0, nl: false, rap: false, rh: 0, id: 0 });
    s.putSubscription('c', { key: 'x', qos: 2, nl: true, rap: false, rh: 2, id: 1 });
    s.putSubscription('c', { key: 'y', qos: 0, nl: false, rap: false, rh: 0, id: 0 });
    s.deleteSubscription('c', 'y');
    s.putOutbound('c', out(1, 'queued'));
    s.putOutbound('c', out(1, 'publish', 4));
    s.putOutbound('c', out(2, 'queued'));
    s.deleteOutbound('c', 2);
    s.putInflightIn('c', 1);
    s.deleteInflightIn('c', 1);
    s.putWill('c', { ...msg('w', 'x'), delaySec: 0 }, null);
    s.deleteWill('c');
    s.setSessionExpiry('c', 5);
    s.setSessionExpiry('c', null);
    const [c] = (await reload(f)).sessions;
    assert.equal(c!.protocolVersion, 5);
    assert.equal(c!.expirySec, 20);
    assert.deepEqual(c!.subscriptions, [{ key: 'x', qos: 2, nl: true, rap: false, rh: 2, id: 1 }]);
    assert.deepEqual(c!.outbound.map((o) => [o.seq, o.state, o.pid]), [[1, 'publish', 4]]);
    assert.deepEqual(c!.inflightIn, []);
    assert.equal(c!.will, null);
    assert.equal(c!.willAt, null);
    assert.equal(c!.expiresAt, null);
  }));

  test(`${name}: deleteSession removes the session with everything it holds`, () => withStore(async (f) => {
    const s = f.store;
    for (const id of ['a', 'b']) {
      s.putSession({ clientId: id, protocolVersion: 4, expirySec: 10 });
      s.putSubscription(id, { key: 't', qos: 1, nl: false, rap: false, rh: 0, id: 0 });
      s.putOutbound(id, out(1, 'queued'));
      s.putInflightIn(id, 3);
      s.putWill(id, { ...msg('w', id), delaySec: 5 }, null);
    }
    s.deleteSession('a');
    const snap = await reload(f);
    assert.deepEqual(snap.sessions.map((x) => x.clientId), ['b']);
    // a session re-created after deletion starts empty
    const f2 = f.store;
    f2.putSession({ clientId: 'a', protocolVersion: 4, expirySec: 10 });
    const again = (await reload(f)).sessions.find((x) => x.clientId === 'a')!;
    assert.deepEqual([again.subscriptions, again.outbound, again.inflightIn, again.will], [[], [], [], null]);
  }));

  test(`${name}: retained messages are stored, replaced and deleted by topic, with their properties`, () => withStore(async (f) => {
    const s = f.store;
    s.putRetained(msg('a/1', 'v1', { retain: true }));
    s.putRetained(msg('a/1', 'v2', { retain: true, properties: { messageExpiryInterval: 60, payloadFormatIndicator: true } }));
    s.putRetained(msg('$SYS/x', 's', { retain: true, qos: 0 }));
    s.putRetained(msg('a/2', 'gone', { retain: true }));
    s.deleteRetained('a/2');
    s.deleteRetained('never/existed');
    const r = (await reload(f)).retained.sort((a, b) => a.topic.localeCompare(b.topic));
    assert.deepEqual(r.map((m) => [m.topic, m.payload.toString(), m.qos, m.ts]), [['$SYS/x', 's', 0, 1_700_000_000_000], ['a/1', 'v2', 1, 1_700_000_000_000]]);
    assert.deepEqual(r[1]!.properties, { messageExpiryInterval: 60, payloadFormatIndicator: true });
  }));

  test(`${name}: records for an unknown session are ignored, not an error`, () => withStore(async (f) => {
    f.store.putSubscription('ghost', { key: 'x', qos: 0, nl: false, rap: false, rh: 0, id: 0 });
    f.store.putOutbound('ghost', out(1, 'queued'));
    f.store.deleteSession('ghost');
    assert.deepEqual((await reload(f)).sessions, []);
  }));

  test(`${name}: flush resolves after many records (a batch)`, () => withStore(async (f) => {
    f.store.putSession({ clientId: 'bulk', protocolVersion: 5, expirySec: 60 });
    for (let i = 1; i <= 2000; i++) f.store.putOutbound('bulk', out(i, 'queued'));
    for (let i = 1; i <= 1000; i++) f.store.deleteOutbound('bulk', i);
    const [b] = (await reload(f)).sessions;
    assert.equal(b!.outbound.length, 1000);
    assert.equal(b!.outbound[0]!.seq, 1001);
  }));
}
