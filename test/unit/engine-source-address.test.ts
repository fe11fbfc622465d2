/**
 * Source addresses (--source-ips) are spread by a device's rank in its shard: each shard runs on a
 * host of its own, with addresses of its own, and must use all of them evenly whatever N is.
 */
import { describe, expect, it } from 'vitest';
import { sliceIds } from '../../src/plan/plan.js';
import { sourceIndex } from '../../src/engine/device-table.js';

describe('sourceIndex', () => {
  it('alternates over the addresses in an unsharded run, one block per target', () => {
    expect([0, 1, 2, 3, 4, 5].map((id) => sourceIndex(id, 1, 1, 2))).toEqual([0, 1, 0, 1, 0, 1]);
    // Two targets (id % 2) and two addresses: each (source, target) pair twice in 8 devices.
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((id) => sourceIndex(id, 1, 2, 2))).toEqual([0, 0, 1, 1, 0, 0, 1, 1]);
  });

  it('uses every address of a shard even when N shares a factor with the address count', () => {
    // Shard 1/2 holds ids 0, 2, 4, 6 and shard 2/2 ids 1, 3, 5, 7: by id over 2 addresses each
    // would use only one of its host's two addresses.
    expect([0, 2, 4, 6].map((id) => sourceIndex(id, 2, 1, 2))).toEqual([0, 1, 0, 1]);
    expect([1, 3, 5, 7].map((id) => sourceIndex(id, 2, 1, 2))).toEqual([0, 1, 0, 1]);
    // Shard 3/4 over 4 addresses: ids 2, 6, 10, 14, 18.
    expect([2, 6, 10, 14, 18].map((id) => sourceIndex(id, 4, 1, 4))).toEqual([0, 1, 2, 3, 0]);
  });

  it('agrees with the shard slicing: a shard of 8 devices over 3 addresses, 3 / 3 / 2', () => {
    const ids = Array.from(sliceIds(32, 1, 4)); // shard 2/4 (0-based index 1)
    expect(ids).toEqual([1, 5, 9, 13, 17, 21, 25, 29]);
    const per = [0, 0, 0];
    for (const id of ids) per[sourceIndex(id, 4, 1, 3)]! += 1;
    expect(per).toEqual([3, 3, 2]);
  });
});
