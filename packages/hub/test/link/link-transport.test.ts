/**
 * The link's transport, with both hubs in this process: TLS is verified by
 * default (a central with a certificate the site does not trust is never
 * reached), `--link-insecure` connects and warns at every connect, and a site
 * behind an HTTP CONNECT proxy with credentials (HTTPS_PROXY) links through it;
 * NO_PROXY is honoured.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { runCert } from '../../src/cli/cert.js';
import { proxyFor } from '../../src/config/link.js';
import { openLinkStore } from '../../src/storage/index.js';
import { makeToken, newTokenId } from '../../src/auth/secrets.js';
import type { Hub } from '../../src/hub.js';
import type { Logger } from '../../src/log.js';
import { startTestHub, until } from '../helpers.js';

test('proxyFor: HTTPS_PROXY for wss, HTTP_PROXY for ws, NO_PROXY names and suffixes', () => {
  const env = { HTTPS_PROXY: 'http://p:3128', HTTP_PROXY: 'http://q:3128', NO_PROXY: 'localhost,.internal, 10.0.0.1' };
  assert.equal(proxyFor('wss://hub.example.com/link', env), 'http://p:3128');
  assert.equal(proxyFor('ws://hub.example.com/link', env), 'http://q:3128');
  assert.equal(proxyFor('wss://a.b.internal/link', env), '');
  assert.equal(proxyFor('wss://localhost:8443/link', env), '');
  assert.equal(proxyFor('wss://10.0.0.1/link', env), '');
  assert.equal(proxyFor('wss://x/link', { ...env, NO_PROXY: '*' }), '');
  assert.equal(proxyFor('wss://x/link', {}), '');
});

/** A captured structured log: warnings are asserted on by message. */
function capture(): { log: Logger; lines: { msg: string }[] } {
  const lines: { msg: string }[] = [];
  const log = pino({ level: 'info' }, new Writable({ write(chunk: Buffer, _e, cb) { for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as { msg: string }); cb(); } }));
  return { log: log as unknown as Logger, lines };
}

async function siteToken(dataDir: string, site: string): Promise<string> {
  const ls = openLinkStore({ dataDir });
  const id = newTokenId();
  const { token, hash } = makeToken(id);
  await ls.putSiteToken({ id, site, hash, createdAt: Date.now(), revokedAt: null });
  await ls.close();
  return token;
}

test('TLS is verified by default; --link-insecure connects and warns; HTTPS_PROXY with credentials carries the link', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fl-link-tls-'));
  const log = console.log;
  console.log = () => undefined;
  await runCert(['dev', '--out', dir, '--hosts', 'localhost,127.0.0.1']);
  console.log = log;
  const centralDir = join(dir, 'central');
  const central = await startTestHub({ store: 'sqlite', dataDir: centralDir, tlsCert: join(dir, 'server.pem'), tlsKey: join(dir, 'server-key.pem'), mqttPort: 0 });
  t.after(() => central.stop());
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, await siteToken(centralDir, 'tls-site'));
  const common = { store: 'sqlite', linkTokenFile: tokenFile, linkPingMs: 200, linkDeadMs: 2000, linkBackoffBaseMs: 50, linkBackoffMaxMs: 200 } as const;

  const strict = await startTestHub({ ...common, dataDir: join(dir, 'strict'), linkUrl: `wss://127.0.0.1:${central.httpPort}/link` });
  await until(() => strict.link.site!.stats.connects >= 2, 10_000, 'a few attempts');
  assert.equal(strict.link.site!.stats.snapshot().connected, false);
  assert.match(strict.link.site!.stats.lastError ?? '', /certificate|self.signed/i);
  await strict.stop();

  // Through an HTTP CONNECT proxy that wants credentials.
  let connects = 0, refused = 0;
  const sockets = new Set<Socket>();
  const proxy = createServer((c) => {
    sockets.add(c);
    c.on('error', () => undefined);
    c.once('data', (head: Buffer) => {
      const text = head.toString('latin1');
      const m = /^CONNECT ([^ ]+):(\d+) HTTP\/1\.1\r\n/.exec(text);
      if (!m || !/\r\nproxy-authorization: Basic dTpw\r\n/i.test(text)) { refused++; return void c.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n'); }
      connects++;
      const up = connect(Number(m[2]), m[1]!, () => { c.write('HTTP/1.1 200 Connection Established\r\n\r\n'); up.pipe(c); c.pipe(up); });
      sockets.add(up);
      up.on('error', () => c.destroy());
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  t.after(() => { for (const s of sockets) s.destroy(); proxy.close(); });
  const env = process.env as Record<string, string | undefined>;
  env.HTTPS_PROXY = `http://u:p@127.0.0.1:${(proxy.address() as { port: number }).port}`;
  const { log: siteLog, lines } = capture();
  let site: Hub;
  try {
    site = await startTestHub({ ...common, dataDir: join(dir, 'lax'), linkUrl: `wss://localhost:${central.httpPort}/link`, linkInsecure: true }, siteLog);
  } finally {
    delete env.HTTPS_PROXY;
  }
  t.after(() => site.stop());
  await until(() => site.link.site!.connected, 10_000, 'the insecure site to connect through the proxy');
  assert.ok(connects >= 1, 'the link went through the proxy');
  assert.equal(refused, 0);
  assert.ok(lines.some((l) => /TLS certificate verification is OFF/.test(l.msg)), 'a warning at connect');
  assert.equal(central.link.central!.snapshot().find((s) => s.site === 'tls-site')?.connected, true);
});
