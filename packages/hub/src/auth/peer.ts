/**
 * Who is on the other end of an HTTP request or WebSocket upgrade (issue #11
 * item 14). Behind a reverse proxy every socket comes from the proxy, so the
 * client address is read from the proxy's forwarding header — but only when the
 * socket's own address is one of `--trusted-proxies`, and only from the one
 * header `--forwarded-header` names (anyone can send the other).
 *
 * The client is the rightmost address in the chain that is not itself a trusted
 * proxy: each proxy appends the address it saw, so entries left of the last
 * untrusted one are whatever the client wrote and are ignored.
 *
 * `proxied`: the request carries a forwarding header at all, trusted or not. A
 * proxied request is never "local" for the anonymous default: a proxy on the
 * hub's own machine makes remote clients look like 127.0.0.1 (see
 * `anonymousRole` in auth/index.ts). Sending such a header can only lower what a
 * client gets.
 */
import type { IncomingMessage } from 'node:http';
import { addressMatcher, normalizeIp } from './addresses.js';

export interface Peer {
  /** The client's address: the socket's, or the one a trusted proxy forwarded. Key of connection limits and auth backoff. */
  readonly address: string;
  /** Came through a proxy (any forwarding header present). */
  readonly proxied: boolean;
  /** A trusted proxy says the client used HTTPS (`X-Forwarded-Proto: https` / `proto=https`). */
  readonly https: boolean;
}

const FORWARDING = ['forwarded', 'x-forwarded-for', 'x-real-ip', 'x-forwarded-host', 'x-forwarded-proto'] as const;
const MAX_HOPS = 32;

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(',') : v);

/** `X-Forwarded-For: a, b` → [a, b]. Entries may carry a port (`1.2.3.4:5678`, `[::1]:80`). */
function xffChain(v: string): string[] {
  return v.split(',').map((e) => e.trim()).filter(Boolean);
}

/** RFC 7239 `Forwarded: for=a;proto=https, for="[::1]:80"` → the `for` values, and the last hop's proto. */
function forwardedChain(v: string): { chain: string[]; protos: (string | undefined)[] } {
  const chain: string[] = [];
  const protos: (string | undefined)[] = [];
  if (!v.trim()) return { chain, protos };
  for (const element of v.split(',')) {
    let forValue = '';
    let proto: string | undefined;
    for (const pair of element.split(';')) {
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      const key = pair.slice(0, eq).trim().toLowerCase();
      const value = pair.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
      if (key === 'for') forValue = value;
      else if (key === 'proto') proto = value.toLowerCase();
    }
    chain.push(forValue);
    protos.push(proto);
  }
  return { chain, protos };
}

/** An address with its port removed, normalised; the raw text (bounded) if it is not an address (`unknown`, `_hidden`). */
function hopAddress(e: string): string {
  if (!e) return 'unknown';
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(e);
  if (bracket) return normalizeIp(bracket[1]!) ?? e.slice(0, 64);
  const v4port = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(e);
  return normalizeIp(v4port ? v4port[1]! : e) ?? e.slice(0, 64);
}

export function createPeerResolver(trustedProxies: readonly string[], header: string): (req: IncomingMessage) => Peer {
  const trusted = addressMatcher(trustedProxies, '--trusted-proxies');
  const cache = new WeakMap<IncomingMessage, Peer>();
  const resolve = (req: IncomingMessage): Peer => {
    const socketAddr = normalizeIp(req.socket.remoteAddress ?? '') ?? '?';
    const proxied = FORWARDING.some((h) => req.headers[h] !== undefined);
    if (!proxied || !trusted.has(socketAddr)) return { address: socketAddr, proxied, https: false };
    let chain: string[];
    let lastProto: string | undefined;
    if (header === 'forwarded') {
      const f = forwardedChain(first(req.headers.forwarded) ?? '');
      chain = f.chain;
      lastProto = f.protos[f.protos.length - 1];
    } else {
      chain = xffChain(first(req.headers['x-forwarded-for']) ?? '');
      lastProto = first(req.headers['x-forwarded-proto'])?.split(',').pop()?.trim().toLowerCase();
    }
    let address = socketAddr;
    for (let i = chain.length - 1, hops = 0; i >= 0 && hops < MAX_HOPS; i--, hops++) {
      address = hopAddress(chain[i]!);
      if (!trusted.has(address)) break;
    }
    return { address, proxied, https: lastProto === 'https' };
  };
  return (req) => {
    let p = cache.get(req);
    if (!p) cache.set(req, (p = resolve(req)));
    return p;
  };
}
