/** A hub that requires authentication, with one identity of each kind, for the attack tests. */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HubConfig } from '../../src/config/options.js';
import type { Hub } from '../../src/hub.js';
import type { Logger } from '../../src/log.js';
import { openIdentities } from '../../src/storage/index.js';
import { fastHash, generateSecret, hashPassword, makeToken } from '../../src/auth/secrets.js';
import { RawClient, mqttConnect, startTestHub, wsUrl } from '../helpers.js';

export interface Secured {
  hub: Hub;
  /** The store URL (`sqlite:<file>`), for the admin CLI in another process. */
  store: string;
  secret: Record<'d1' | 'd2', string>;
  tokens: Record<'viewer' | 'operator' | 'device' | 'revoked' | 'expired', string>;
  passwords: Record<'vera' | 'otto', string>;
  /** More identities, for tests that need names of their own: a device's secret, a user's password. */
  addDevice(id: string): Promise<string>;
  addUser(name: string, role?: 'viewer' | 'operator'): Promise<string>;
  stop(): Promise<void>;
}

/** `log`: the hub's logger (default: silent), for tests that count log lines. */
export async function securedHub(over: Partial<HubConfig> = {}, log?: Logger): Promise<Secured> {
  const dir = mkdtempSync(join(tmpdir(), 'fl-sec-'));
  const store = `sqlite:${join(dir, 'fl.db')}`;
  const hub = await startTestHub({ store, anonymous: 'none', authTimeoutMs: 800, ...over }, log);
  const ids = openIdentities({ url: store });
  const now = Date.now();
  const secret = { d1: generateSecret(), d2: generateSecret() };
  for (const [id, s] of Object.entries(secret)) await ids.putDevice({ id, secretHash: fastHash(s), createdAt: now });
  const passwords = { vera: 'viewer-password-1', otto: 'operator-password-1' };
  await ids.putUser({ name: 'vera', passwordHash: await hashPassword(passwords.vera), role: 'viewer', createdAt: now });
  await ids.putUser({ name: 'otto', passwordHash: await hashPassword(passwords.otto), role: 'operator', createdAt: now });
  const token = async (id: string, role: 'viewer' | 'operator' | 'device', extra: { subject?: string; expiresAt?: number; revokedAt?: number } = {}) => {
    const t = makeToken(id);
    await ids.putToken({ id, hash: t.hash, name: id, role, subject: extra.subject ?? null, createdAt: now, expiresAt: extra.expiresAt ?? null, revokedAt: extra.revokedAt ?? null });
    return t.token;
  };
  const tokens = {
    viewer: await token('viewerTok01', 'viewer'),
    operator: await token('operatorTok1', 'operator'),
    device: await token('deviceTok001', 'device', { subject: 'd1' }),
    revoked: await token('revokedTok01', 'operator', { revokedAt: now - 1000 }),
    expired: await token('expiredTok01', 'operator', { expiresAt: now - 1000 }),
  };
  return {
    hub,
    store,
    secret,
    tokens,
    passwords,
    async addDevice(id) {
      const sec = generateSecret();
      await ids.putDevice({ id, secretHash: fastHash(sec), createdAt: Date.now() });
      return sec;
    },
    async addUser(name, role = 'viewer') {
      const password = `${name}-password-1`;
      await ids.putUser({ name, passwordHash: await hashPassword(password), role, createdAt: Date.now() });
      return password;
    },
    async stop() {
      await ids.close();
      await hub.stop();
    },
  };
}

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** Run `fieldlink <args>` in a process of its own (as an administrator would), with `stdin` as its input. */
export function cli(args: string[], stdin?: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, ...args]);
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.stdin.end(stdin ?? '');
    p.on('exit', (code) => resolve({ code, out, err }));
  });
}

/**
 * A legitimate device (MQTT, d1) and a legitimate viewer (browser on /ws) running
 * throughout an attack file: `flowing()` publishes a fresh reading and waits for
 * the viewer to receive it.
 */
export async function legitTraffic(s: Secured): Promise<{ flowing(): Promise<void>; browser: RawClient; close(): Promise<void> }> {
  const device = await mqttConnect(`mqtt://127.0.0.1:${s.hub.mqttPort}`, { username: 'd1', password: s.secret.d1 });
  const browser = await RawClient.open(wsUrl(s.hub, '/ws'));
  if (!(await browser.request('auth', { token: s.tokens.viewer })).ok) throw new Error('legitimate viewer could not authenticate');
  if (!(await browser.request('sub', { filter: 'devices/+/telemetry' })).ok) throw new Error('legitimate viewer could not subscribe');
  let n = 0;
  return {
    browser,
    async flowing() {
      const v = 1_000_000 + ++n;
      await device.publishAsync('devices/d1/telemetry', JSON.stringify({ lux: v }));
      await browser.waitFor((f) => f.op === 'msg' && (f.payload as { lux?: number }).lux === v, 5000);
    },
    async close() {
      browser.close();
      await device.endAsync();
    },
  };
}
