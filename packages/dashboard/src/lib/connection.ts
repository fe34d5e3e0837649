/**
 * The page's one connection to the hub: a FieldlinkClient on `/ws` of the page's
 * own origin (the hub serves the dashboard, so CSP `connect-src 'self'` holds;
 * in `vite dev` the dev server proxies /ws to the hub). It sends no credentials:
 * the session cookie set by the login (session.ts) rides on the upgrade, and the
 * `auth` reply says who the connection is.
 *
 * Nothing here connects: session.ts calls `client.connect()` once it knows the
 * hub will take the connection (a session, or anonymous access).
 * `{op:"error"}` pushes (frames the hub could not tie to a request) become notices.
 */
import { FieldlinkClient, type FieldlinkError, type StateEvent } from '@fieldlink/protocol';
import { notify } from './notices.js';
import { Store } from './store.js';

export function hubWsUrl(loc: Location = location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws`;
}

export interface ConnectionView {
  state: StateEvent['state'] | 'offline';
  /** When the next attempt starts (ms since epoch), while reconnecting. */
  retryAt?: number;
  attempt?: number;
  closeCode?: number;
  /** When the connection went down (for "offline since"). */
  downSince?: number;
  /** Why the client stopped (state `closed`): the hub refused the connection's identity. */
  error?: FieldlinkError;
}

export const client = new FieldlinkClient({ url: hubWsUrl(), backoff: { minMs: 500, maxMs: 10_000 } });
export const connection = new Store<ConnectionView>({ state: 'idle' });

client.onError((e) => notify('Hub error', e));

client.onState((e) => {
  const prev = connection.get();
  const downSince = e.state === 'open' ? undefined : prev.downSince ?? (prev.state === 'open' ? Date.now() : undefined);
  const offline = typeof navigator !== 'undefined' && navigator.onLine === false && e.state !== 'open';
  connection.set({
    state: offline ? 'offline' : e.state,
    ...(e.retryInMs !== undefined ? { retryAt: Date.now() + e.retryInMs } : {}),
    ...(e.attempt !== undefined ? { attempt: e.attempt } : {}),
    ...(e.closeCode !== undefined ? { closeCode: e.closeCode } : {}),
    ...(downSince !== undefined ? { downSince } : {}),
    ...(e.error ? { error: e.error } : {}),
  });
});

/** Called after every reconnect, with the time the connection went down: views backfill from there. */
export function onReconnect(fn: (downSince: number) => void): () => void {
  return client.onState((e) => {
    if (e.state === 'open' && e.reconnected) fn(e.downSince ?? Date.now() - 60_000);
  });
}

if (typeof window !== 'undefined') {
  window.addEventListener('offline', () => connection.set({ ...connection.get(), state: 'offline' }));
  window.addEventListener('online', () => connection.set({ ...connection.get(), state: client.state }));
}
