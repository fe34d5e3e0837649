/**
 * DNS-rebinding protection (issue #11 item 8): a page on `evil.example` whose name
 * the attacker re-points at 127.0.0.1 talks to the hub as same-origin — Host and
 * Origin are both `evil.example:8080` — and on the out-of-the-box hub that is
 * anonymous admin. Browsers always send the name they resolved as `Host`, so the
 * hub answers only to names it is known by (as webpack-dev-server, Vite and
 * Jupyter do):
 *
 *  - always: `localhost` and `*.localhost` (RFC 6761: browsers resolve them to
 *    loopback themselves), 127.0.0.0/8, `::1`, this machine's hostname and
 *    `<hostname>.local` (mDNS: resolved on the LAN, not by an attacker's DNS);
 *  - the --host address; with --host 0.0.0.0 or ::, every address of every
 *    interface (re-read when an unknown address shows up, at most every 5 s:
 *    a Pi reached as http://192.168.1.20:8080 keeps working after DHCP changes);
 *  - `--allowed-hosts`: names, `.example.com` (the domain and its subdomains),
 *    addresses and CIDR ranges, or `*` (no check).
 *
 * A request without Host (HTTP/1.0 tools) is not a browser and is served; so is
 * a WebSocket upgrade without Origin (http/server.ts): browsers always send one,
 * so devices and scripts may reach the WebSocket doors by any name.
 */
import type { IncomingMessage } from 'node:http';
import { hostname as osHostname, networkInterfaces } from 'node:os';
import { Codes } from '@fieldlink/protocol';
import { addressMatcher, isAddressEntry, normalizeIp } from '../auth/addresses.js';

const REFRESH_MS = 5000;
const WILDCARD = new Set(['0.0.0.0', '::', '']);

/** The name part of a Host header: lower case, no port, no trailing dot, IPv6 without brackets. */
export function hostName(header: string): string {
  let h = header.trim().toLowerCase();
  if (h.startsWith('[')) h = h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  else if (h.indexOf(':') === h.lastIndexOf(':')) h = h.replace(/:\d*$/, '');
  return h.replace(/\.$/, '');
}

const LOOPBACK4 = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

export interface HostCheck {
  (hostHeader: string | undefined): boolean;
}

export function createHostCheck(listenHost: string, allowed: readonly string[], now = () => Date.now()): HostCheck {
  if (allowed.includes('*')) return () => true;
  const names = new Set<string>(['localhost']);
  const self = osHostname().toLowerCase();
  if (self) names.add(self).add(`${self}.local`);
  const suffixes: string[] = [];
  const ranges: string[] = [];
  for (const e of allowed) {
    const entry = e.trim().toLowerCase();
    if (!entry) continue;
    if (isAddressEntry(entry.replace(/^\[|\](?=\/|$)/g, ''))) ranges.push(entry.replace(/^\[|\](?=\/|$)/g, ''));
    else if (entry.startsWith('.')) suffixes.push(entry);
    else names.add(hostName(entry));
  }
  const configured = addressMatcher(ranges, '--allowed-hosts');
  const listen = normalizeIp(listenHost);
  if (!WILDCARD.has(listenHost) && !listen) names.add(hostName(listenHost)); // --host given as a name
  let interfaces = new Set<string>();
  let readAt = -Infinity;
  const readInterfaces = () => {
    readAt = now();
    interfaces = new Set(Object.values(networkInterfaces()).flatMap((l) => (l ?? []).map((i) => normalizeIp(i.address) ?? i.address)));
  };
  const isInterface = (ip: string) => {
    if (interfaces.has(ip)) return true;
    if (now() - readAt >= REFRESH_MS) readInterfaces();
    return interfaces.has(ip);
  };

  return (header) => {
    if (header === undefined) return true;
    const name = hostName(header);
    if (names.has(name) || name.endsWith('.localhost')) return true;
    if (suffixes.some((s) => name === s.slice(1) || name.endsWith(s))) return true;
    const ip = normalizeIp(name);
    if (!ip) return false;
    if (LOOPBACK4.test(ip) || ip === '::1' || ip === listen || configured.has(ip)) return true;
    return WILDCARD.has(listenHost) && isInterface(ip);
  };
}

/** The HOST_REJECTED error body, telling the operator which option to set. */
export function hostRejected(req: IncomingMessage): { code: number; name: 'HOST_REJECTED'; message: string } {
  const name = hostName(req.headers.host ?? '').slice(0, 100);
  return {
    code: Codes.HOST_REJECTED.code,
    name: 'HOST_REJECTED',
    message: `this hub is not known as ${JSON.stringify(name)} (DNS-rebinding protection): if that is how you reach it, start it with --allowed-hosts ${name || '<name>'} (docs/security.md)`,
  };
}
