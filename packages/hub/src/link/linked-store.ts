/**
 * The site's store: every telemetry append also writes the outbox records of
 * its readings, in the same transaction (Store.append's `link` argument), so a
 * reading the hub acknowledges after commit is in the outbox. A decorator, not
 * a change to ingest: whatever appends local telemetry feeds the link.
 *
 * Loop prevention by namespace: points of devices of a site this hub is
 * central for (`forward` says false) are not forwarded, so two hubs linked
 * both ways never send each other's devices back.
 */
import type { Point, Store } from '../storage/types.js';
import type { LinkWrite } from '../storage/link-sql.js';
import { readingsOf } from './records.js';

export function linkedStore(inner: Store, forward: (device: string) => boolean, onAppended: () => void): Store {
  const append = async (points: readonly Point[], link?: LinkWrite) => {
    const mine = link ? [] : points.filter((p) => forward(p.device));
    const outbox = [...(link?.outbox ?? []), ...readingsOf(mine)];
    await inner.append(points, outbox.length ? { ...link, outbox } : link);
    if (outbox.length) onAppended();
  };
  return new Proxy(inner, {
    get: (target, prop, receiver) => (prop === 'append' ? append : (Reflect.get(target, prop, receiver) as unknown)),
  });
}
