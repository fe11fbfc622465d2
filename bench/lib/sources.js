/**
 * Hands out source addresses (127.0.0.x) to measurements so that consecutive runs never share
 * one: a source address that still holds sockets from the previous run (TIME_WAIT, or ports
 * reserved by Node's bind-before-connect) makes the next run slower. Addresses are
 * given out round-robin from the pool; each run gets enough that no source/destination pair
 * carries more than PER_ADDRESS connections (the cheap-port limit is ~14k per pair).
 */

export const PER_ADDRESS = 8_000;

function toInt(ip) {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255))
    throw new Error(`not an IPv4 address: ${ip}`);
  return parts.reduce((a, o) => a * 256 + o, 0);
}
function toIp(n) {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** Parses "127.0.0.64-127.0.0.254"; every address must be inside 127.0.0.0/24. */
export function parsePool(spec) {
  const [a, b] = spec.split('-');
  const lo = toInt(a ?? '');
  const hi = toInt(b ?? a ?? '');
  if (hi < lo) throw new Error(`--source-pool: ${spec} ends before it starts`);
  const out = [];
  for (let n = lo; n <= hi; n++) {
    const ip = toIp(n);
    if (!ip.startsWith('127.0.0.') || ip === '127.0.0.0' || ip === '127.0.0.255')
      throw new Error(`--source-pool: ${ip} is not a usable 127.0.0.x address`);
    out.push(ip);
  }
  return out;
}

export class SourcePool {
  /** @param {string[]} addresses */
  constructor(addresses) {
    if (addresses.length < 2) throw new Error('--source-pool: give at least 2 addresses');
    this.addresses = addresses;
    this.next = 0;
  }

  /** Addresses for a run of `connections`: at least 2, and enough to keep pairs under PER_ADDRESS. */
  take(connections) {
    const k = Math.min(this.addresses.length, Math.max(2, Math.ceil(connections / PER_ADDRESS)));
    const out = [];
    for (let i = 0; i < k; i++) {
      out.push(this.addresses[this.next]);
      this.next = (this.next + 1) % this.addresses.length;
    }
    return out;
  }
}
