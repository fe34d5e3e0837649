/**
 * The link, assembled for the hub (hub.ts calls `openLink` once the bus is up,
 * before the services, so ingest appends through the site's linked store).
 * Central: `/link` is served whenever there is a store (only a site with a
 * token from `fieldlink link site add` can use it). Site: only with --link-url.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { HubConfig } from '../config/options.js';
import { proxyFor } from '../config/link.js';
import { ConfigError } from '../config/schema.js';
import type { Bus } from '../bus/types.js';
import type { Logger } from '../log.js';
import type { LinkStore } from '../storage/link.js';
import type { Store } from '../storage/types.js';
import type { CallGate } from '../services/commands.js';
import { redactUrl } from '../redact.js';
import { LinkCentral } from './central.js';
import { LinkSite } from './site.js';
import { linkedStore } from './linked-store.js';

export interface Link {
  /** The store services append through (the site's linked store, or the store itself). */
  readonly store: Store | undefined;
  readonly central: LinkCentral | undefined;
  readonly site: LinkSite | undefined;
  gate: CallGate;
  /** Counters of both roles (metrics). */
  snapshot(): { name: string; site: ReturnType<LinkSite['stats']['snapshot']> | null; sites: ReturnType<LinkCentral['snapshot']> };
  /** `GET /api/v1/links`: the snapshot, with each site's latest gap and epoch events from the store. */
  report(): Promise<unknown>;
  /** Dial central (site role); after the services are up. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

function readToken(file: string): string {
  if (!file) throw new ConfigError('--link-url needs --link-token-file (the token printed by `fieldlink link site add <id>` on central)');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new ConfigError(`cannot read --link-token-file ${file}: ${(e as Error).message}`);
  }
}

export async function openLink(cfg: HubConfig, store: Store | undefined, linkStore: LinkStore | undefined, bus: Bus, log: Logger): Promise<Link> {
  const name = cfg.linkName || hostname();
  if (cfg.linkUrl && (!store || !linkStore)) throw new ConfigError('--link-url needs a store (the outbox lives in it): not --store none');
  if (cfg.linkUrl && !/^wss?:\/\//.test(cfg.linkUrl)) throw new ConfigError(`--link-url ${redactUrl(cfg.linkUrl)}: use ws://host:port/link or wss://host/link`);
  const central = store && linkStore ? new LinkCentral(
    { hubName: name, pingMs: cfg.linkPingMs, deadMs: cfg.linkDeadMs, callDeadlineMs: cfg.linkCallDeadlineMs, maxFrameBytes: cfg.linkMaxFrameBytes },
    store, linkStore, bus, log.child({ link: 'central' }),
  ) : undefined;
  await central?.start();
  let site: LinkSite | undefined;
  const forward = (device: string) => !central?.isSiteDevice(device);
  const appendStore = cfg.linkUrl && store ? linkedStore(store, forward, () => site?.wake()) : store;
  if (cfg.linkUrl && appendStore && linkStore) {
    site = new LinkSite({
      url: cfg.linkUrl, token: readToken(cfg.linkTokenFile), insecure: cfg.linkInsecure, proxy: proxyFor(cfg.linkUrl),
      pingMs: cfg.linkPingMs, deadMs: cfg.linkDeadMs, ackDeadMs: cfg.linkAckTimeoutMs, backoffBaseMs: cfg.linkBackoffBaseMs, backoffMaxMs: cfg.linkBackoffMaxMs,
      batchRecords: cfg.linkBatchRecords, batchBytes: cfg.linkBatchBytes, maxInFlight: cfg.linkWindow,
      outboxMaxBytes: cfg.linkOutboxMaxBytes, outboxMaxAgeMs: cfg.linkOutboxMaxAgeMs, boundEveryMs: cfg.linkBoundEveryMs, forward,
    }, appendStore, linkStore, bus, log.child({ link: 'site', central: redactUrl(cfg.linkUrl) }));
  }
  const snapshot = () => ({ name, site: site ? site.stats.snapshot() : null, sites: central?.snapshot() ?? [] });
  return {
    store: appendStore,
    central,
    site,
    gate: (...a) => central?.commands.gate(...a),
    snapshot,
    report: async () => {
      const s = snapshot();
      return { ...s, sites: await Promise.all(s.sites.map(async (x) => ({ ...x, events: linkStore ? await linkStore.events(x.site, 20) : [] }))) };
    },
    start: async () => { await site?.start(); },
    stop: async () => {
      await site?.stop();
      await central?.stop();
    },
  };
}
