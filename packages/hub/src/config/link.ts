/**
 * Options of the hub-to-hub link (docs/link.md), spread into hubOptions, and
 * the proxy a site uses to reach its central (HTTPS_PROXY/HTTP_PROXY, NO_PROXY:
 * the conventional variables, read here because only config/ reads the environment).
 */
import type { OptionDef } from './schema.js';

const int = (d: number, doc: string, extra: Partial<OptionDef<'int'>> = {}): OptionDef<'int'> => ({ kind: 'int', default: d, doc, group: 'Link', ...extra });
const str = (d: string, doc: string): OptionDef<'string'> => ({ kind: 'string', default: d, doc, group: 'Link' });

export const linkOptions = {
  linkUrl: str('', 'Site role: the central hub\'s link endpoint to dial, e.g. `wss://central.example/link`. Empty: this hub dials no central (it still serves `/link` to sites that have a token: `fieldlink link site add`).'),
  linkTokenFile: str('', 'Site role: file holding this site\'s token (from `fieldlink link site add <id>` on central), sent as `Authorization: Bearer` in the upgrade, never in the URL.'),
  linkInsecure: { kind: 'bool', default: false, doc: 'Site role: do not verify central\'s TLS certificate (a warning is logged at every connect). For a lab only.', group: 'Link' } as OptionDef<'bool'>,
  linkName: str('', 'This hub\'s name on links (central tells it to its sites in `hello`). Empty: the machine\'s hostname.'),
  linkPingMs: int(15000, 'Both ends: a ping frame at least this often.', { min: 50, max: 600000, advanced: true }),
  linkDeadMs: int(45000, 'Both ends: a link with no frame for this long is dead (closed; the site redials).', { min: 200, max: 3600000, advanced: true }),
  linkAckTimeoutMs: int(30000, 'Site role: a link with records in flight and no acknowledgement progress for this long is dead (half-open link, stuck central).', { min: 200, max: 3600000, advanced: true }),
  linkBackoffBaseMs: int(500, 'Site role: first reconnect delay bound; it doubles per failed attempt (full jitter: a random delay below the bound).', { min: 10, max: 600000, advanced: true }),
  linkBackoffMaxMs: int(30000, 'Site role: largest reconnect delay bound.', { min: 10, max: 3600000, advanced: true }),
  linkBatchRecords: int(1000, 'Site role: most records per batch frame.', { min: 1, max: 2000, advanced: true }),
  linkBatchBytes: int(1048576, 'Site role: about the most bytes of records per batch frame.', { min: 1024, max: 8388608, advanced: true }),
  linkWindow: int(4, 'Site role: batches in flight per lane before waiting for an acknowledgement.', { min: 1, max: 64, advanced: true }),
  linkOutboxMaxBytes: int(268435456, 'Site role: outbox bound. Past it the oldest telemetry records are dropped down to 90 % and replaced by a gap record (`queue_full`) that central stores; state records (status, meta, command replies) are never dropped for telemetry.', { min: 1024, max: 1099511627776 }),
  linkOutboxMaxAgeMs: int(604800000, 'Site role: telemetry records older than this are dropped from the outbox as a gap record (`ttl`).', { min: 1000, max: 31536000000 }),
  linkBoundEveryMs: int(5000, 'Site role: how often the outbox bound is checked.', { min: 50, max: 600000, advanced: true }),
  linkCallDeadlineMs: int(5000, 'Central role: deadline of a command sent down a link (ms from when it is sent, central\'s clock; the site corrects it by the skew measured at connect).', { min: 100, max: 86400000, advanced: true }),
  linkMaxFrameBytes: int(16777216, 'Central role: largest link frame accepted.', { min: 65536, max: 268435456, advanced: true }),
} as const;

/** The proxy URL for `target` from HTTPS_PROXY / HTTP_PROXY and NO_PROXY (comma list of names, `.domain` suffixes, `*`), or ''. */
export function proxyFor(target: string, env: Record<string, string | undefined> = process.env): string {
  const u = new URL(target);
  const secure = u.protocol === 'wss:' || u.protocol === 'https:';
  const proxy = (secure ? env.HTTPS_PROXY ?? env.https_proxy : undefined) ?? env.HTTP_PROXY ?? env.http_proxy ?? '';
  if (!proxy) return '';
  const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  for (const raw of (env.NO_PROXY ?? env.no_proxy ?? '').split(',')) {
    const e = raw.trim().toLowerCase().replace(/:\d+$/, '');
    if (!e) continue;
    if (e === '*' || host === e.replace(/^\./, '') || host.endsWith(e.startsWith('.') ? e : `.${e}`)) return '';
  }
  return proxy;
}
