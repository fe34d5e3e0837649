/**
 * Identity administration: `fieldlink device add|list|remove|rotate <id>`,
 * `fieldlink user add|passwd|remove|list <name>`, `fieldlink token create|list|revoke`.
 * Works on the store the hub uses (same --store / --data-dir / --config). Secrets
 * and tokens are printed once, on stdout; only their hashes are kept. A change
 * that ends access (rotate, passwd, remove, revoke) is logged by the store in the
 * same transaction; running hubs read that log and close what it ends within
 * about a second (auth/revocation.ts), so this process needs no way to reach them.
 */
import { isDeviceId } from '@fieldlink/protocol';
import { adminOptions, type AdminConfig } from '../config/options.js';
import { loadConfig } from '../config/load.js';
import { ConfigError } from '../config/schema.js';
import { openIdentities, openStore } from '../storage/index.js';
import type { IdentityStore } from '../auth/identities.js';
import { fastHash, generateSecret, hashPassword, makeToken, newTokenId } from '../auth/secrets.js';
import { readPassword } from './password.js';

type Cmd = (ids: IdentityStore, arg: string | undefined, cfg: AdminConfig) => Promise<unknown>;

const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const need = (arg: string | undefined, what: string): string => {
  if (!arg) throw new ConfigError(`missing ${what}`);
  return arg;
};
const deviceId = (arg: string | undefined) => {
  const id = need(arg, 'device id');
  if (!isDeviceId(id)) throw new ConfigError(`"${id}" is not a valid device id (letters, digits, . _ : -, at most 64)`);
  return id;
};

function parseDuration(s: string): number {
  const m = /^(\d+)([mhd])$/.exec(s);
  if (!m) throw new ConfigError(`--expires ${s}: use a number with m, h or d (e.g. 30d)`);
  return Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'];
}

export const deviceCmds: Record<string, Cmd> = {
  async add(ids, arg) {
    const id = deviceId(arg);
    if (await ids.getDevice(id)) throw new ConfigError(`device "${id}" exists: use \`fieldlink device rotate ${id}\` for a new secret`);
    const secret = generateSecret();
    await ids.putDevice({ id, secretHash: fastHash(secret), createdAt: Date.now() });
    return { device: id, secret, note: 'the secret is shown once: configure the device with it now (MQTT username = device id, password = secret)' };
  },
  async rotate(ids, arg) {
    const id = deviceId(arg);
    const old = await ids.getDevice(id);
    if (!old) throw new ConfigError(`no device "${id}"`);
    const secret = generateSecret();
    await ids.putDevice({ ...old, secretHash: fastHash(secret) });
    return { device: id, secret, note: 'the old secret no longer works; connections made with it are closed within seconds' };
  },
  async remove(ids, arg) {
    const id = deviceId(arg);
    if (!(await ids.removeDevice(id))) throw new ConfigError(`no device "${id}"`);
    return { removed: id };
  },
  list: async (ids) => (await ids.listDevices()).map((d) => ({ device: d.id, created: new Date(d.createdAt).toISOString() })),
};

export const userCmds: Record<string, Cmd> = {
  async add(ids, arg, cfg) {
    const name = need(arg, 'user name');
    if (!USER_NAME.test(name)) throw new ConfigError(`"${name}" is not a valid user name`);
    if (cfg.role === 'device') throw new ConfigError('users have a role of viewer, operator or admin');
    if (await ids.getUser(name)) throw new ConfigError(`user "${name}" exists: use \`fieldlink user passwd ${name}\``);
    const password = await readPassword(cfg.passwordStdin, `password for ${name}: `);
    await ids.putUser({ name, passwordHash: await hashPassword(password), role: cfg.role as 'viewer', createdAt: Date.now() });
    return { user: name, role: cfg.role };
  },
  async passwd(ids, arg, cfg) {
    const name = need(arg, 'user name');
    const u = await ids.getUser(name);
    if (!u) throw new ConfigError(`no user "${name}"`);
    const password = await readPassword(cfg.passwordStdin, `new password for ${name}: `);
    await ids.putUser({ ...u, passwordHash: await hashPassword(password) });
    return { user: name, note: 'sessions and connections made with the old password are closed within seconds' };
  },
  async remove(ids, arg) {
    const name = need(arg, 'user name');
    if (!(await ids.removeUser(name))) throw new ConfigError(`no user "${name}"`);
    return { removed: name };
  },
  list: async (ids) => (await ids.listUsers()).map((u) => ({ user: u.name, role: u.role, created: new Date(u.createdAt).toISOString() })),
};

export const tokenCmds: Record<string, Cmd> = {
  async create(ids, _arg, cfg) {
    if (cfg.role === 'device' && !isDeviceId(cfg.device)) throw new ConfigError('a device token needs --device <id>');
    const id = newTokenId();
    const { token, hash } = makeToken(id);
    const now = Date.now();
    const expiresAt = cfg.expires ? now + parseDuration(cfg.expires) : null;
    await ids.putToken({ id, hash, name: cfg.name || `${cfg.role} token`, role: cfg.role as 'viewer', subject: cfg.role === 'device' ? cfg.device : null, createdAt: now, expiresAt, revokedAt: null });
    return { id, token, role: cfg.role, expires: expiresAt ? new Date(expiresAt).toISOString() : null, note: 'the token is shown once' };
  },
  async revoke(ids, arg) {
    const id = need(arg, 'token id');
    if (!(await ids.revokeToken(id, Date.now()))) throw new ConfigError(`no active token "${id}"`);
    return { revoked: id };
  },
  list: async (ids) =>
    (await ids.listTokens()).map((t) => ({
      id: t.id, name: t.name, role: t.role, subject: t.subject,
      expires: t.expiresAt ? new Date(t.expiresAt).toISOString() : null,
      state: t.revokedAt ? 'revoked' : t.expiresAt !== null && t.expiresAt <= Date.now() ? 'expired' : 'active',
    })),
};

export async function runAdmin(table: Record<string, Cmd>, noun: string, argv: string[]): Promise<number> {
  const verb = argv[0];
  const cmd = verb ? table[verb] : undefined;
  if (!cmd) throw new ConfigError(`usage: fieldlink ${noun} ${Object.keys(table).join('|')} … (see fieldlink ${noun} --help)`);
  const positional = argv[1] && !argv[1].startsWith('--') ? argv[1] : undefined;
  const cfg = loadConfig(adminOptions, argv.slice(positional ? 2 : 1), (m) => console.error(`fieldlink: ${m}`));
  if (cfg.store === 'none') throw new ConfigError('identities live in the store: --store none has none');
  const storeOpts = { url: cfg.store === 'sqlite' ? undefined : cfg.store, dataDir: cfg.dataDir };
  const store = await openStore(storeOpts); // applies migrations
  const ids = openIdentities(storeOpts);
  try {
    const out = await cmd(ids, positional, cfg);
    if (cfg.json || !Array.isArray(out)) console.log(JSON.stringify(out, null, cfg.json ? 0 : 2));
    else console.table(out);
    return 0;
  } finally {
    await ids.close();
    await store.close();
  }
}
