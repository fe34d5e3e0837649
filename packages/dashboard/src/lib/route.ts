/**
 * Hash routing, so a reload (or a shared link) keeps the view:
 *   #/devices            the device list (also the default)
 *   #/devices/{id}?range=1h[&from=ms&to=ms]   one device
 *   #/explorer[?filter=…]                     the topic explorer
 *   #/alerts                                  alerts: firing, history, rules
 * The hub serves only index.html at `/`; nothing here needs server routes.
 */
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { view: 'devices' }
  | { view: 'device'; id: string; query: URLSearchParams }
  | { view: 'explorer'; query: URLSearchParams }
  | { view: 'alerts' };

export function parseHash(hash: string): Route {
  const h = hash.replace(/^#/, '');
  const [path = '', qs = ''] = h.split('?', 2);
  const query = new URLSearchParams(qs);
  const parts = path.split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  if (parts[0] === 'devices' && parts[1]) return { view: 'device', id: parts[1], query };
  if (parts[0] === 'explorer') return { view: 'explorer', query };
  if (parts[0] === 'alerts') return { view: 'alerts' };
  return { view: 'devices' };
}

export function deviceHref(id: string, query?: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return `#/devices/${encodeURIComponent(id)}${s ? `?${s}` : ''}`;
}

/** Replace the hash without adding a history entry (range changes, filters). */
export function replaceHash(href: string): void {
  history.replaceState(null, '', href);
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseHash(location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}
