/**
 * Which ports a worker binds from on each source address (pure): the ephemeral range split between
 * the workers of this machine that bind that address, and only those. Devices go to workers by
 * their rank in the shard (rank mod workers) and to addresses by the same rank (device-table.ts
 * sourceIndex), so with as many workers as addresses each worker binds one address alone: a split
 * among all workers would leave it half the range (14,116 ports of 28,232 with 2 workers).
 */
import type { PortSlice } from '../protocols/transports/source-ports.js';
import { workerPortSlice } from '../protocols/transports/source-ports.js';
import { sourceIndex } from './device-table.js';

export interface SliceInput {
  /** Devices in the whole plan (every shard). */
  devices: number;
  shardIndex: number;
  shardCount: number;
  workerIndex: number;
  workerCount: number;
  sourceIps: readonly string[];
  /** How many run targets device `id`'s cohort has (sourceIndex spreads blocks of that many). */
  targetCountOf(id: number): number;
}

/** This worker's slice of `range` on every source address it binds. */
export function workerSourceSlices(i: SliceInput, range: readonly [number, number]): Map<string, PortSlice> {
  const a = i.sourceIps.length;
  const w = i.workerCount;
  // binds[address * w + worker] = 1 when that worker binds that address for some device.
  const binds = new Uint8Array(a * w);
  for (let id = i.shardIndex; id < i.devices; id += i.shardCount) {
    const t = i.targetCountOf(id);
    if (t === 0) continue; // a cohort with its own targets only: device-table binds no address then
    const rank = Math.floor(id / i.shardCount);
    binds[sourceIndex(id, i.shardCount, t, a) * w + (rank % w)] = 1;
  }
  const out = new Map<string, PortSlice>();
  i.sourceIps.forEach((ip, k) => {
    if (binds[k * w + i.workerIndex] !== 1) return;
    let before = 0;
    let sharers = 0;
    for (let v = 0; v < w; v++) {
      if (binds[k * w + v] !== 1) continue;
      sharers++;
      if (v < i.workerIndex) before++;
    }
    out.set(ip, workerPortSlice(range, before, sharers));
  });
  return out;
}
