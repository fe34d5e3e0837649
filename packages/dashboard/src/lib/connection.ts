/**
 * The page's one connection to the hub: a FieldlinkClient on `/ws` of the page's
 * own origin (the hub serves the dashboard, so CSP `connect-src 'self'` holds;
 * in `vite dev` the dev server proxies /ws to the hub).
 *
 * The typed client handles replies and `msg` pushes but ignores `{op:"error"}`
 * pushes (the hub's answer to a frame without a usable id). The dashboard must
 * show those too, so the socket is a subclass that looks at each frame first;
 * the check is a cheap prefix test, so 200 msg/s cost nothing extra.
 */
import { FieldlinkClient, type ErrorPush, type StateEvent } from '@fieldlink/protocol';
import { notify } from './notices.js';
import { Store } from './store.js';

class TappedWebSocket extends WebSocket {
  constructor(url: string) {
    super(url);
    this.addEventListener('message', (ev: MessageEvent) => {
      const d = ev.data;
      if (typeof d !== 'string' || !d.startsWith('{"op":"error"')) return;
      try {
        const f = JSON.parse(d) as ErrorPush;
        notify('Hub error', { code: f.error.code, codeName: f.error.name, message: f.error.message });
      } catch {
        /* not JSON: the client ignores it as well */
      }
    });
  }
}

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
}

export const client = new FieldlinkClient({ url: hubWsUrl(), WebSocket: TappedWebSocket as never, backoff: { minMs: 500, maxMs: 10_000 } });
export const connection = new Store<ConnectionView>({ state: 'connecting' });

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
