// Tests http/hosts.ts: the names a hub answers to (DNS-rebinding protection).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname, networkInterfaces } from 'node:os';
import { createHostCheck, hostName } from '../../src/http/hosts.js';
import { ConfigError } from '../../src/config/schema.js';

test('hostName: lower case, no port, no trailing dot, IPv6 unbracketed', () => {
  assert.equal(hostName('LocalHost.:8080'), 'localhost');
  assert.equal(hostName('[::1]:8080'), '::1');
  assert.equal(hostName('hub.example.com'), 'hub.example.com');
});

test('default: loopback names and addresses, this machine\'s names, the listen address; nothing else', () => {
  const check = createHostCheck('127.0.0.1', []);
  const yes = ['127.0.0.1:8080', 'localhost:8080', 'LOCALHOST', 'localhost.', 'app.localhost:5173', '127.0.0.2', '127.255.255.254:1', '[::1]:8080', '[::ffff:127.0.0.1]:8080', hostname(), `${hostname()}.local:8080`];
  for (const h of yes) assert.equal(check(h), true, h);
  const no = ['evil.example:8080', 'localhost.evil.example', '127.0.0.1.evil.example', 'evil-localhost', '192.168.1.20:8080', '[fe80::1]', '', 'evil.example:8080, localhost'];
  for (const h of no) assert.equal(check(h), false, h);
  assert.equal(check(undefined), true, 'no Host: not a browser');
});

test('a hub on a LAN address answers to it; on 0.0.0.0 / :: to every interface address', () => {
  assert.equal(createHostCheck('192.168.1.20', [])('192.168.1.20:8080'), true);
  assert.equal(createHostCheck('192.168.1.20', [])('192.168.1.21:8080'), false);
  assert.equal(createHostCheck('pi.lan', [])('pi.lan:8080'), true);
  const addrs = Object.values(networkInterfaces()).flatMap((l) => (l ?? []).map((i) => i.address));
  assert.ok(addrs.length > 0);
  for (const listen of ['0.0.0.0', '::']) {
    const check = createHostCheck(listen, []);
    for (const a of addrs) assert.equal(check(a.includes(':') ? `[${a}]:8080` : `${a}:8080`), true, `${listen}: ${a}`);
    assert.equal(check('203.0.113.77'), false);
    assert.equal(check('evil.example'), false);
  }
});

test('--allowed-hosts: names, .domain, addresses and ranges, *; bad ranges are a ConfigError', () => {
  const check = createHostCheck('127.0.0.1', ['hub.example.com', '.corp.example', '10.0.0.0/8', '[fd00::1]', 'pi.lan:8443']);
  for (const h of ['hub.example.com', 'HUB.example.com:443', 'corp.example', 'a.b.corp.example', '10.9.8.7:8080', '[fd00::1]:80', 'pi.lan']) assert.equal(check(h), true, h);
  for (const h of ['evilcorp.example', 'hub.example.com.evil.example', 'xhub.example.com', '11.0.0.1', '[fd00::2]']) assert.equal(check(h), false, h);
  assert.equal(createHostCheck('127.0.0.1', ['*'])('anything.example'), true);
  assert.throws(() => createHostCheck('127.0.0.1', ['10.0.0.0/40']), ConfigError);
});
