/**
 * Prometheus metrics of both link ends, labelled with the peer (`peer`: the
 * central's URL-less name `central` on a site, the site id on central) and the
 * lane where one applies. Read from link/stats.ts when scraped.
 */
import type { MetricSources, Sample } from '../metrics.js';
import type { Link } from './index.js';

const orZero = (rows: Sample[], labels: Record<string, string>): Sample[] => (rows.length ? rows : [[labels, 0]]);

export function linkMetricSources(link: Link): MetricSources {
  const site = () => link.site?.stats.snapshot();
  const sites = () => link.central?.snapshot() ?? [];
  const lanes = (f: (s: NonNullable<ReturnType<typeof site>>, lane: 'state' | 'telemetry') => number, central?: (s: ReturnType<typeof sites>[number], lane: 'state' | 'telemetry') => number) => (): Sample[] => {
    const out: Sample[] = [];
    const s = site();
    for (const lane of ['state', 'telemetry'] as const) {
      if (s) out.push([{ role: 'site', peer: 'central', lane }, f(s, lane)]);
      if (central) for (const c of sites()) out.push([{ role: 'central', peer: c.site, lane }, central(c, lane)]);
    }
    return orZero(out, { role: 'site', peer: 'none', lane: 'telemetry' });
  };
  return {
    fieldlink_link_connected: {
      help: '1 while the link to the peer is up (site: hello received; central: session open)',
      read: () => orZero([
        ...(site() ? [[{ role: 'site', peer: 'central' }, site()!.connected ? 1 : 0] as Sample] : []),
        ...sites().map((c): Sample => [{ role: 'central', peer: c.site }, c.connected ? 1 : 0]),
      ], { role: 'site', peer: 'none' }),
    },
    fieldlink_link_queue_records: { help: 'Site outbox: records not yet acknowledged by central', read: lanes((s, l) => s.queue[l]!.records) },
    fieldlink_link_queue_bytes: { help: 'Site outbox: bytes of records not yet acknowledged', read: lanes((s, l) => s.queue[l]!.bytes) },
    fieldlink_link_lag_seconds: { help: 'Site outbox: age of the oldest unacknowledged record', read: lanes((s, l) => s.queue[l]!.lagMs / 1000) },
    fieldlink_link_sent_total: { help: 'Records sent (site; resends included)', read: lanes((s, l) => s.sent[l]) },
    fieldlink_link_acked_total: { help: 'Records acknowledged by central (site) / applied (central)', read: lanes((s, l) => s.acked[l], (c, l) => c.applied[l]) },
    fieldlink_link_events_total: {
      help: 'Link counters by peer and counter: resent, duplicates, refused (outside the namespace), jumps, gaps, epoch changes, connects, commands',
      read: () => {
        const out: Sample[] = [];
        const s = site();
        if (s) for (const [k, v] of Object.entries({ resent: s.resent, duplicates: s.duplicates, connects: s.connects, commands: s.commands })) out.push([{ role: 'site', peer: 'central', counter: k }, v]);
        for (const c of sites()) {
          for (const [k, v] of Object.entries({ duplicates: c.duplicates, refused: c.refused, jumps: c.jumps, gaps: c.gaps, epoch_changes: c.epochChanges, connects: c.connects, replaced: c.replaced, commands: c.callsSent, queued: c.queued })) out.push([{ role: 'central', peer: c.site, counter: k }, v]);
        }
        return orZero(out, { role: 'site', peer: 'none', counter: 'none' });
      },
    },
    fieldlink_link_dropped_total: {
      help: 'Site: telemetry records dropped from the outbox by reason (each range is a gap record central stores)',
      read: () => orZero(Object.entries(site()?.dropped ?? {}).map(([reason, v]): Sample => [{ peer: 'central', reason }, v]), { peer: 'none', reason: 'queue_full' }),
    },
    fieldlink_link_disconnects_total: {
      help: 'Site: disconnects by reason',
      read: () => orZero(Object.entries(site()?.disconnects ?? {}).map(([reason, v]): Sample => [{ peer: 'central', reason }, v]), { peer: 'none', reason: 'none' }),
    },
    fieldlink_link_rtt_seconds: { help: 'Site: round-trip time of the last ping', read: () => [[{ peer: 'central' }, (site()?.rttMs ?? 0) / 1000]] },
  };
}
