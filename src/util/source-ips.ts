/**
 * Source addresses for spreading ephemeral ports (Linux connect() is cheap for ~14k connections
 * per source/destination pair, then searches for a port on every call). Accepts a list, a range
 * or a CIDR: "127.0.0.2,127.0.0.3", "127.0.0.2-127.0.0.20", "127.0.1.0/28".
 */
import { isIPv4, isIPv6 } from 'node:net';
import { networkInterfaces } from 'node:os';
import { HerdError } from '../errors.js';

const MAX_ADDRESSES = 4096;

function toInt(ip: string): number {
  return ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}
function toIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export function parseSourceIps(spec: string, flag = '--source-ips'): string[] {
  const out: string[] = [];
  for (const part of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const bad = (why: string): never => {
      throw new HerdError(
        'E_FLAG',
        `${flag}: ${JSON.stringify(part)} ${why}; expected a list, a range (127.0.0.2-127.0.0.20) or a CIDR (127.0.1.0/28)`,
      );
    };
    if (part.includes('/')) {
      const [base, bitsText] = part.split('/');
      const bits = Number(bitsText);
      if (base === undefined || !isIPv4(base) || !Number.isInteger(bits) || bits < 16 || bits > 32)
        bad('is not an IPv4 CIDR of /16 to /32');
      const size = 2 ** (32 - bits);
      const start = Math.floor(toInt(base as string) / size) * size;
      // Skip network and broadcast addresses for real subnets; on loopback every address works.
      for (let i = 0; i < size; i++) out.push(toIp(start + i));
    } else if (part.includes('-')) {
      const [a, b] = part.split('-');
      if (a === undefined || b === undefined || !isIPv4(a) || !isIPv4(b)) bad('is not a range of two IPv4 addresses');
      const lo = toInt(a as string);
      const hi = toInt(b as string);
      if (hi < lo) bad('ends before it starts');
      for (let n = lo; n <= hi && out.length <= MAX_ADDRESSES; n++) out.push(toIp(n));
    } else {
      if (!isIPv4(part)) bad('is not an IPv4 address');
      out.push(part);
    }
    if (out.length > MAX_ADDRESSES) bad(`gives more than ${MAX_ADDRESSES} addresses`);
  }
  if (out.length === 0) throw new HerdError('E_FLAG', `${flag}: no addresses given`);
  return [...new Set(out)];
}

/** Addresses configured on this machine's interfaces; all of 127.0.0.0/8 is local on Linux. */
export function localAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(a.address);
  return out;
}

/**
 * A source address must belong to this machine: binding another fails every connect with
 * EADDRNOTAVAIL, which would look like running out of ports. Nothing is sent to the address.
 */
export function assertLocalSourceIps(
  ips: readonly string[],
  local: ReadonlySet<string> = localAddresses(),
  flag = '--source-ips',
): void {
  const foreign = ips.filter((ip) => !/^127\./.test(ip) && !local.has(ip));
  if (foreign.length === 0) return;
  const shown = foreign.slice(0, 3).join(', ') + (foreign.length > 3 ? ` and ${foreign.length - 3} more` : '');
  throw new HerdError(
    'E_FLAG',
    `${flag}: ${shown} ${foreign.length === 1 ? 'is not an address' : 'are not addresses'} of this machine; expected loopback addresses (127.0.0.2-127.0.0.20) or addresses of its interfaces`,
  );
}

/**
 * Source addresses are IPv4 (parseSourceIps takes no other): a target at an IPv6 address cannot be
 * reached from them — every connect would fail locally. Host names are left to the resolver.
 */
export function assertSourceFamily(
  ips: readonly string[],
  targetHosts: readonly string[],
  flag = '--source-ips',
): void {
  if (ips.length === 0) return;
  const v6 = targetHosts.map((h) => h.replace(/^\[|\]$/g, '')).find((h) => isIPv6(h));
  if (v6 === undefined) return;
  throw new HerdError(
    'E_FLAG',
    `${flag}: IPv4 source addresses cannot reach the IPv6 target ${v6}; expected an IPv4 target (e.g. 127.0.0.1), or no ${flag}`,
  );
}
