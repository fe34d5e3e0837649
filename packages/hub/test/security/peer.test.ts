// Tests auth/peer.ts and auth/addresses.ts: which address a request is counted under, and when it counts as proxied.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { createPeerResolver } from '../../src/auth/peer.js';
import { addressMatcher, normalizeIp } from '../../src/auth/addresses.js';
import { ConfigError } from '../../src/config/schema.js';

const req = (remoteAddress: string, headers: Record<string, string> = {}) => ({ socket: { remoteAddress }, headers }) as unknown as IncomingMessage;

test('addresses: one normal form; CIDR ranges; bad entries are a ConfigError naming the option', () => {
  assert.equal(normalizeIp('::ffff:127.0.0.1'), '127.0.0.1');
  assert.equal(normalizeIp('[::1]'), '::1');
  assert.equal(normalizeIp('FE80::1%eth0'), 'fe80::1');
  assert.equal(normalizeIp('example.com'), undefined);
  const m = addressMatcher(['127.0.0.1', '10.0.0.0/8', 'fd00::/8', '[::1]'], '--trusted-proxies');
  for (const a of ['127.0.0.1', '::ffff:127.0.0.1', '10.200.3.4', 'fd12::5', '::1']) assert.equal(m.has(a), true, a);
  for (const a of ['127.0.0.2', '11.0.0.1', 'fe80::1', 'unknown', '']) assert.equal(m.has(a), false, a);
  for (const bad of ['proxy.local', '10.0.0.0/33', '10.0.0.0/8/1', '::/129', '1.2.3.4/x']) {
    assert.throws(() => addressMatcher([bad], '--trusted-proxies'), (e: unknown) => e instanceof ConfigError && /--trusted-proxies/.test((e as Error).message), bad);
  }
});

test('peer: headers from an untrusted peer are never believed, but mark the request proxied', () => {
  const peer = createPeerResolver([], 'x-forwarded-for');
  assert.deepEqual(peer(req('127.0.0.1')), { address: '127.0.0.1', proxied: false, https: false });
  for (const h of ['x-forwarded-for', 'forwarded', 'x-real-ip', 'x-forwarded-host', 'x-forwarded-proto']) {
    assert.deepEqual(peer(req('127.0.0.1', { [h]: h === 'forwarded' ? 'for=203.0.113.9' : '203.0.113.9' })), { address: '127.0.0.1', proxied: true, https: false }, h);
  }
  assert.equal(peer(req('::ffff:192.0.2.1')).address, '192.0.2.1');
});

test('peer: a trusted proxy\'s X-Forwarded-For names the client: the rightmost hop that is not a trusted proxy', () => {
  const peer = createPeerResolver(['127.0.0.1', '10.0.0.0/8'], 'x-forwarded-for');
  const cases: [string, string][] = [
    ['203.0.113.9', '203.0.113.9'],
    ['6.6.6.6, 203.0.113.9', '203.0.113.9'], // the client wrote 6.6.6.6 itself; nginx appended the real address
    ['6.6.6.6, 203.0.113.9, 10.1.2.3', '203.0.113.9'], // two trusted proxies in a row
    ['203.0.113.9:51234', '203.0.113.9'],
    ['[2001:db8::17]:4711', '2001:db8::17'],
    ['2001:db8::17', '2001:db8::17'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['10.0.0.1, 127.0.0.1', '10.0.0.1'], // every hop trusted: the leftmost
    ['garbage', 'garbage'], // not an address, but what the trusted proxy saw: its own key
  ];
  for (const [xff, client] of cases) assert.equal(peer(req('127.0.0.1', { 'x-forwarded-for': xff })).address, client, xff);
  // the header this hub is not told to read is ignored even from a trusted proxy: it cannot smuggle an address
  assert.equal(peer(req('127.0.0.1', { forwarded: 'for=6.6.6.6', 'x-forwarded-for': '203.0.113.9' })).address, '203.0.113.9');
  assert.equal(peer(req('127.0.0.1', { forwarded: 'for=6.6.6.6' })).address, '127.0.0.1');
  assert.equal(peer(req('127.0.0.1', { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https' })).https, true);
  assert.equal(peer(req('127.0.0.9', { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https' })).https, false, 'untrusted peer');
  const long = Array.from({ length: 100 }, (_, i) => `10.0.0.${i % 250}`).join(', ');
  assert.equal(peer(req('127.0.0.1', { 'x-forwarded-for': `6.6.6.6, ${long}` })).address.startsWith('10.'), true, 'at most 32 hops are walked');
});

test('peer: RFC 7239 Forwarded when configured', () => {
  const peer = createPeerResolver(['127.0.0.1'], 'forwarded');
  const cases: [string, string][] = [
    ['for=203.0.113.9;proto=https', '203.0.113.9'],
    ['for=6.6.6.6, for=203.0.113.9;by=127.0.0.1', '203.0.113.9'],
    ['for="[2001:db8:cafe::17]:4711"', '2001:db8:cafe::17'],
    ['For=203.0.113.9', '203.0.113.9'],
    ['for=unknown', 'unknown'],
    ['proto=http', 'unknown'],
  ];
  for (const [f, client] of cases) assert.equal(peer(req('127.0.0.1', { forwarded: f })).address, client, f);
  assert.equal(peer(req('127.0.0.1', { forwarded: 'for=203.0.113.9;proto=https' })).https, true);
  assert.equal(peer(req('127.0.0.1', { 'x-forwarded-for': '6.6.6.6' })).address, '127.0.0.1', 'X-Forwarded-For is not read');
});
