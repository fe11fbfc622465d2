/**
 * Every /proc probe herd makes on the device side: the machine facts preflight and results need (Linux; null
 * elsewhere).
 */
import { readFileSync } from 'node:fs';
import * as os from 'node:os';

export interface SystemFacts {
  cores: number;
  freeMemoryBytes: number;
  openFileLimit: { soft: number | null; hard: number | null };
  ephemeralPortRange: [number, number] | null;
  /** TIME_WAIT sockets per local IPv4 address. */
  timeWaitByIp: Map<string, number>;
  /** The 1-minute load average: runnable work already on the machine (null where the OS gives none). */
  loadAverage1m: number | null;
}

export function readSystemFacts(): SystemFacts {
  return {
    cores: os.availableParallelism(),
    freeMemoryBytes: os.freemem(),
    openFileLimit: readOpenFileLimit(),
    ephemeralPortRange: readEphemeralPortRange(),
    timeWaitByIp: readTimeWait(),
    loadAverage1m: process.platform === 'win32' ? null : (os.loadavg()[0] ?? null),
  };
}

export function readOpenFileLimit(): { soft: number | null; hard: number | null } {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const m = line ? /Max open files\s+(\S+)\s+(\S+)/.exec(line) : null;
    const num = (s: string | undefined): number | null => (s === undefined || s === 'unlimited' ? null : Number(s));
    return { soft: num(m?.[1]), hard: num(m?.[2]) };
  } catch {
    return { soft: null, hard: null };
  }
}

export function readEphemeralPortRange(): [number, number] | null {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return lo !== undefined && hi !== undefined ? [lo, hi] : null;
  } catch {
    return null;
  }
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
