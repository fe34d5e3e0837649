/**
 * IP addresses and CIDR ranges as options take them (`--trusted-proxies`,
 * `--allowed-hosts`): one normal form for addresses, so `::ffff:127.0.0.1`,
 * `[::1]` and `127.0.0.1` compare as the addresses they are, and a matcher over
 * Node's BlockList.
 */
import net from 'node:net';
import { ConfigError } from '../config/schema.js';

/** `[::1]` → `::1`; `::ffff:10.0.0.1` → `10.0.0.1`; lower case. Undefined if not an IP address. */
export function normalizeIp(s: string): string | undefined {
  let a = s.trim().toLowerCase();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const zone = a.indexOf('%'); // fe80::1%eth0: the zone does not change which address it is
  if (zone > 0 && a.includes(':')) a = a.slice(0, zone);
  if (a.startsWith('::ffff:') && net.isIPv4(a.slice(7))) a = a.slice(7);
  return net.isIP(a) ? a : undefined;
}

export const family = (a: string): 'ipv4' | 'ipv6' => (net.isIPv4(a) ? 'ipv4' : 'ipv6');

/** Is `entry` an address or a CIDR range (`10.0.0.0/8`, `fd00::/8`)? */
export function isAddressEntry(entry: string): boolean {
  const [addr, bits, extra] = entry.split('/');
  return extra === undefined && normalizeIp(addr ?? '') !== undefined && (bits === undefined || /^\d{1,3}$/.test(bits));
}

export interface AddressMatcher {
  readonly size: number;
  has(address: string): boolean;
}

/** A matcher for addresses and CIDR ranges; an entry that is neither is a ConfigError naming the option. */
export function addressMatcher(entries: readonly string[], option: string): AddressMatcher {
  const list = new net.BlockList();
  let size = 0;
  for (const entry of entries) {
    const [raw, bits] = entry.trim().split('/');
    const addr = normalizeIp(raw ?? '');
    const prefix = bits === undefined ? undefined : Number(bits);
    const max = addr && net.isIPv4(addr) ? 32 : 128;
    if (!addr || (prefix !== undefined && (!Number.isInteger(prefix) || prefix < 0 || prefix > max) ) || entry.split('/').length > 2) {
      throw new ConfigError(`${option} ${JSON.stringify(entry)}: expected an IP address or a CIDR range such as 10.0.0.0/8`);
    }
    if (prefix === undefined) list.addAddress(addr, family(addr));
    else list.addSubnet(addr, prefix, family(addr));
    size++;
  }
  return {
    size,
    has(address) {
      const a = normalizeIp(address);
      return a !== undefined && size > 0 && list.check(a, family(a));
    },
  };
}
