/** Reads the machine facts preflight needs (Linux /proc; null elsewhere). */
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import { readEphemeralPortRange, readOpenFileLimit } from '../report/environment.js';

export interface SystemFacts {
  cores: number;
  freeMemoryBytes: number;
  openFileLimit: { soft: number | null; hard: number | null };
  ephemeralPortRange: [number, number] | null;
  /** TIME_WAIT sockets per local IPv4 address. */
  timeWaitByIp: Map<string, number>;
}

export function readSystemFacts(): SystemFacts {
  return {
    cores: os.availableParallelism(),
    freeMemoryBytes: os.freemem(),
    openFileLimit: readOpenFileLimit(),
    ephemeralPortRange: readEphemeralPortRange(),
    timeWaitByIp: readTimeWait(),
  };
}

/** Counts TIME_WAIT (state 06) sockets per local address from /proc/net/tcp. */
export function readTimeWait(): Map<string, number> {
  const out = new Map<string, number>();
  let text: string;
  try {
    text = readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols[3] !== '06' || cols[1] === undefined) continue;
    const ip = hexToIpv4(cols[1].split(':')[0] ?? '');
    if (ip !== null) out.set(ip, (out.get(ip) ?? 0) + 1);
  }
  return out;
}

/** /proc/net/tcp prints IPv4 addresses as little-endian hex ("0100007F" = 127.0.0.1). */
export function hexToIpv4(hex: string): string | null {
  if (!/^[0-9A-Fa-f]{8}$/.test(hex)) return null;
  const n = parseInt(hex, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join('.');
}
