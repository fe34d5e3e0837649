/** A hub that requires authentication, with one identity of each kind, for the attack tests. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HubConfig } from '../../src/config/options.js';
import type { Hub } from '../../src/hub.js';
import { openIdentities } from '../../src/storage/index.js';
import { fastHash, generateSecret, hashPassword, makeToken } from '../../src/auth/secrets.js';
import { startTestHub } from '../helpers.js';

export interface Secured {
  hub: Hub;
  secret: Record<'d1' | 'd2', string>;
  tokens: Record<'viewer' | 'operator' | 'device' | 'revoked' | 'expired', string>;
  passwords: Record<'vera' | 'otto', string>;
  /** The store URL, to add identities in a test. */
  store: string;
  stop(): Promise<void>;
}

export async function securedHub(over: Partial<HubConfig> = {}): Promise<Secured> {
  const dir = mkdtempSync(join(tmpdir(), 'fl-sec-'));
  const store = `sqlite:${join(dir, 'fl.db')}`;
  const hub = await startTestHub({ store, anonymous: 'none', authTimeoutMs: 800, ...over });
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
    secret,
    tokens,
    passwords,
    store,
    async stop() {
      await ids.close();
      await hub.stop();
    },
  };
}
