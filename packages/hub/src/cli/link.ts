/**
 * `fieldlink link site add|revoke|list <id>` (central: per-site tokens, printed
 * once, stored hashed as API tokens are) and `fieldlink link status` (either
 * end: lanes, outbox fill, marks and recent gap / epoch events, read from the
 * store, so it works whether the hub runs or not).
 */
import { isSiteId } from '@fieldlink/protocol';
import { adminOptions } from '../config/options.js';
import { loadConfig } from '../config/load.js';
import { ConfigError } from '../config/schema.js';
import { openLinkStore, openStore, type LinkStore } from '../storage/index.js';
import { makeToken, newTokenId } from '../auth/secrets.js';

const siteId = (arg: string | undefined) => {
  if (!isSiteId(arg)) throw new ConfigError(`"${arg ?? ''}" is not a valid site id (lower-case letters, digits and -, at most 32, starting with a letter or digit)`);
  return arg;
};

type Cmd = (link: LinkStore, arg: string | undefined) => Promise<unknown>;

const siteCmds: Record<string, Cmd> = {
  /** A new token for the site; earlier ones stay valid until `revoke` (rotation: add, reconfigure the site, revoke). */
  async add(link, arg) {
    const site = siteId(arg);
    const id = newTokenId();
    const { token, hash } = makeToken(id);
    await link.putSiteToken({ id, site, hash, createdAt: Date.now(), revokedAt: null });
    return { site, id, token, note: 'the token is shown once: put it in the site\'s --link-token-file; its devices appear here as ' + `${site}:<device>` };
  },
  async revoke(link, arg) {
    const site = siteId(arg);
    const n = await link.revokeSite(site, Date.now());
    if (n === 0) throw new ConfigError(`site "${site}" has no active token`);
    return { site, revoked: n, note: 'new connections of this site are refused; a running central closes an open one within about 5 s' };
  },
  list: async (link) => (await link.siteTokens()).map((t) => ({ site: t.site, id: t.id, created: new Date(t.createdAt).toISOString(), state: t.revokedAt ? 'revoked' : 'active' })),
};

async function status(link: LinkStore): Promise<unknown> {
  const now = Date.now();
  const lanes = await Promise.all((await link.lanes()).map(async (l) => {
    const f = await link.fill(l.lane);
    return { ...l, queued: f.records, bytes: f.bytes, lagMs: f.oldestTs === null ? 0 : now - f.oldestTs };
  }));
  const sites = [...new Set((await link.siteTokens()).map((t) => t.site))];
  return {
    site: { lanes },
    central: await Promise.all(sites.map(async (site) => ({ site, marks: await link.marks(site), events: await link.events(site, 10) }))),
  };
}

export async function runLink(argv: string[]): Promise<number> {
  const [noun, verb] = argv;
  let rest: string[];
  let cmd: Cmd;
  if (noun === 'status') {
    cmd = status;
    rest = argv.slice(1);
  } else if (noun === 'site' && verb && siteCmds[verb]) {
    cmd = siteCmds[verb];
    rest = argv.slice(2);
  } else {
    throw new ConfigError('usage: fieldlink link site add|revoke <id> | link site list | link status [--data-dir … | --store …]');
  }
  const positional = rest[0] && !rest[0].startsWith('--') ? rest[0] : undefined;
  const cfg = loadConfig(adminOptions, rest.slice(positional ? 1 : 0), (m) => console.error(`fieldlink: ${m}`));
  if (cfg.store === 'none') throw new ConfigError('the link lives in the store: --store none has none');
  const storeOpts = { url: cfg.store === 'sqlite' ? undefined : cfg.store, dataDir: cfg.dataDir };
  const store = await openStore(storeOpts); // applies migrations
  const link = openLinkStore(storeOpts);
  try {
    console.log(JSON.stringify(await cmd(link, positional), null, cfg.json ? 0 : 2));
    return 0;
  } finally {
    await link.close();
    await store.close();
  }
}
