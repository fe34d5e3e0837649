/**
 * Who is using the dashboard, and the login around the one connection.
 *
 *  - On start, `GET /api/v1/session`: an identity (a session cookie, or anonymous
 *    access, the default on loopback) connects at once; 401 shows the login form.
 *    Any other answer (an older hub, the hub unreachable) also connects: then the
 *    WebSocket's `auth` reply decides, and the client retries with backoff meanwhile.
 *  - Login: `POST /api/v1/session` sets an HttpOnly cookie the page never sees; it
 *    rides on the WebSocket upgrade, so the client sends no credentials.
 *  - When the client stops because the hub refused the connection's identity (an
 *    access error, e.g. the session expired or the hub restarted), the login form
 *    comes back with that error.
 *  - Logout (`DELETE`) reloads the page, so nothing the previous user saw (explorer
 *    messages, subscriptions) stays in memory. A login as another user than the one
 *    this page last had reloads too, for the same reason.
 */
import { FieldlinkError, type ErrorBody } from '@fieldlink/protocol';
import { client } from './connection.js';
import { errorText } from './format.js';
import { Store, useStore } from './store.js';

export interface Identity { kind: string; id: string; role: string }

export type AuthView =
  | { phase: 'checking' }
  | { phase: 'login'; error?: string }
  /** `identity` null: the hub did not say (yet); the connection's `auth` reply fills it in. */
  | { phase: 'in'; identity: Identity | null };

export const auth = new Store<AuthView>({ phase: 'checking' });
const SESSION = '/api/v1/session';
let lastUser: string | undefined;

/** Roles that may publish and call under the default rules (docs/security.md). Unknown: let the hub decide. */
export function canSend(identity: Identity | null): boolean {
  return identity === null || identity.role === 'operator' || identity.role === 'admin';
}

/** Why this page's identity may not send, for the note beside a disabled form; undefined when it may. */
export function useSendBlock(what: string): string | undefined {
  const a = useStore(auth);
  const identity = a.phase === 'in' ? a.identity : null;
  return canSend(identity) ? undefined : `Your role ${identity!.role} cannot ${what}.`;
}

function signedIn(identity: Identity | null): void {
  if (identity?.kind === 'user') lastUser = identity.id;
  auth.set({ phase: 'in', identity });
  client.connect().catch(() => undefined); // a refusal arrives as a `closed` state event, handled below
}

async function errorOf(res: Response): Promise<FieldlinkError | Error> {
  try {
    const body = (await res.json()) as { error?: ErrorBody };
    if (body.error && typeof body.error.code === 'number') return new FieldlinkError(body.error);
  } catch {
    /* not our JSON: fall through */
  }
  return new Error(`HTTP ${res.status} ${res.statusText}`);
}

export async function startSession(): Promise<void> {
  try {
    const res = await fetch(SESSION, { headers: { accept: 'application/json' }, cache: 'no-store' });
    if (res.status === 401) return auth.set({ phase: 'login' });
    if (res.ok) return signedIn(((await res.json()) as { identity: Identity }).identity);
  } catch {
    /* unreachable: connect anyway, the connection badge shows the retries */
  }
  signedIn(null);
}

/** Logs in; resolves with the error text to show, or undefined on success. */
export async function login(user: string, password: string): Promise<string | undefined> {
  let res: Response;
  try {
    res = await fetch(SESSION, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ user, password }), cache: 'no-store' });
  } catch (e) {
    return `Cannot reach the hub: ${errorText(e)}`;
  }
  if (!res.ok) return errorText(await errorOf(res));
  const { identity } = (await res.json()) as { identity: Identity };
  if (lastUser !== undefined && identity.id !== lastUser) {
    location.reload();
    return undefined;
  }
  signedIn(identity);
  return undefined;
}

/** Logs out and reloads; resolves with the error text when the hub could not be told. */
export async function logout(): Promise<string | undefined> {
  try {
    const res = await fetch(SESSION, { method: 'DELETE', cache: 'no-store' });
    if (!res.ok) return errorText(await errorOf(res));
  } catch (e) {
    return `Cannot reach the hub: ${errorText(e)}`;
  }
  client.close();
  location.reload();
  return undefined;
}

client.onState((e) => {
  if (e.state === 'closed' && e.error?.policy === 'access') {
    auth.set({ phase: 'login', error: errorText(e.error) });
  } else if (e.state === 'open') {
    // The identity the hub gives this connection is the one that counts for what it may do.
    const who = client.hub.identity as Identity | undefined;
    if (who) auth.set({ phase: 'in', identity: who });
  }
});
