import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import type { Environment } from './results-types.js';
import { HERD_VERSION } from '../version.js';

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

export function describeEnvironment(): Environment {
  const cpus = os.cpus();
  return {
    herdVersion: HERD_VERSION,
    node: process.version,
    platform: process.platform,
    release: os.release(),
    arch: process.arch,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemoryBytes: os.totalmem(),
    openFileLimit: readOpenFileLimit(),
    ephemeralPortRange: readEphemeralPortRange(),
  };
}
