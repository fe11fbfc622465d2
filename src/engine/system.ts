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
  /** TIME_WAIT sockets per local IPv4 address (readSystemFacts reads them on first use). */
  timeWaitByIp: Map<string, number>;
  /** The 1-minute load average: runnable work already on the machine (null where the OS gives none). */
  loadAverage1m: number | null;
}

export function readSystemFacts(): SystemFacts {
  let timeWait: Map<string, number> | null = null;
  return {
    cores: os.availableParallelism(),
    freeMemoryBytes: os.freemem(),
    openFileLimit: readOpenFileLimit(),
    ephemeralPortRange: readEphemeralPortRange(),
    // Read on first use: preflight needs it only for source addresses a run binds.
    get timeWaitByIp() {
      return (timeWait ??= readTimeWait());
    },
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

/**
 * Counts TIME_WAIT (state 06) sockets per local address from /proc/net/tcp. After storms that file
 * holds tens of thousands of lines (~60–100 ms for the kernel to print them at 40k), so it is read
 * only when /proc/net/sockstat says there is a TIME_WAIT socket at all.
 */
export function readTimeWait(): Map<string, number> {
  if (readTimeWaitTotal() === 0) return new Map();
  let text: Buffer;
  try {
    text = readFileSync('/proc/net/tcp');
  } catch {
    return new Map();
  }
  return countTimeWait(text);
}

/**
 * The `tw` count of /proc/net/sockstat: TIME_WAIT sockets, IPv4 and IPv6, of this network namespace
 * (of the whole machine on kernels before 5.19). Either way 0 means /proc/net/tcp lists none. Null
 * when the file or the field is missing.
 */
export function readTimeWaitTotal(): number | null {
  try {
    return timeWaitTotalOf(readFileSync('/proc/net/sockstat', 'latin1'));
  } catch {
    return null;
  }
}

/** The `tw` field of the `TCP:` line of /proc/net/sockstat text, or null. */
export function timeWaitTotalOf(sockstat: string): number | null {
  const m = /^TCP:.*\btw (\d+)/m.exec(sockstat);
  return m ? Number(m[1]) : null;
}

const COLON = 0x3a;
const SPACE = 0x20;
const NEWLINE = 0x0a;
/** After a line's first colon the kernel prints " %08X:%04X %08X:%04X %02X": offsets from that colon. */
const LOCAL_AT = 2;
const STATE_AT = 30;
const TIME_WAIT = [0x30, 0x36]; // "06"

/**
 * TIME_WAIT sockets per local IPv4 address in /proc/net/tcp text, read at the fixed offsets the
 * kernel prints each line at (the sl column before the colon is "%4d", wider past 9999). The header
 * and any line not in that shape count nothing.
 */
export function countTimeWait(text: Buffer | string): Map<string, number> {
  const b = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  const byHex = new Map<number, number>();
  let start = b.indexOf(NEWLINE) + 1; // the header
  while (start > 0 && start < b.length) {
    const nl = b.indexOf(NEWLINE, start);
    const end = nl === -1 ? b.length : nl;
    const c = b.indexOf(COLON, start);
    if (
      c !== -1 &&
      c + STATE_AT + 2 <= end &&
      b[c + STATE_AT] === TIME_WAIT[0] &&
      b[c + STATE_AT + 1] === TIME_WAIT[1] &&
      b[c + 1] === SPACE &&
      b[c + 10] === COLON &&
      b[c + 15] === SPACE &&
      b[c + 24] === COLON &&
      b[c + 29] === SPACE &&
      (c + STATE_AT + 2 === end || b[c + STATE_AT + 2] === SPACE)
    ) {
      const hex = hexAt(b, c + LOCAL_AT);
      if (hex !== -1) byHex.set(hex, (byHex.get(hex) ?? 0) + 1);
    }
    start = end + 1;
  }
  const out = new Map<string, number>();
  for (const [n, count] of byHex) {
    const ip = ipv4OfLittleEndian(n);
    out.set(ip, (out.get(ip) ?? 0) + count);
  }
  return out;
}

/** The 8 hex digits at `at` as a number, or -1 when one is not a hex digit. */
function hexAt(b: Buffer, at: number): number {
  let n = 0;
  for (let i = at; i < at + 8; i++) {
    const ch = b[i] as number;
    const d =
      ch >= 0x30 && ch <= 0x39 ? ch - 0x30 : (ch | 0x20) >= 0x61 && (ch | 0x20) <= 0x66 ? (ch | 0x20) - 0x57 : -1;
    if (d === -1) return -1;
    n = n * 16 + d;
  }
  return n;
}

function ipv4OfLittleEndian(n: number): string {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join('.');
}

/** /proc/net/tcp prints IPv4 addresses as little-endian hex ("0100007F" = 127.0.0.1). */
export function hexToIpv4(hex: string): string | null {
  if (!/^[0-9A-Fa-f]{8}$/.test(hex)) return null;
  return ipv4OfLittleEndian(parseInt(hex, 16));
}
