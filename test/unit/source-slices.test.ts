import { describe, expect, it } from 'vitest';
import { workerSourceSlices, type SliceInput } from '../../src/engine/source-slices.js';

const RANGE: [number, number] = [32768, 60999];
const FULL = { first: 32768, last: 60999 };
const FIRST_HALF = { first: 32768, last: 46883 };
const SECOND_HALF = { first: 46884, last: 60999 };

function input(o: Partial<SliceInput>): SliceInput {
  return {
    devices: 12,
    shardIndex: 0,
    shardCount: 1,
    workerIndex: 0,
    workerCount: 2,
    sourceIps: ['127.0.0.2', '127.0.0.3'],
    targetCountOf: () => 1,
    ...o,
  };
}

describe('workerSourceSlices', () => {
  it('gives a worker that binds an address alone the whole range on it', () => {
    // Rank r goes to worker r mod 2 and to address r mod 2: worker 0 binds only .2, worker 1 only .3.
    expect(workerSourceSlices(input({}), RANGE)).toEqual(new Map([['127.0.0.2', FULL]]));
    expect(workerSourceSlices(input({ workerIndex: 1 }), RANGE)).toEqual(new Map([['127.0.0.3', FULL]]));
  });

  it('splits an address between the workers that share it', () => {
    // Three addresses, two workers: every (worker, address) pair occurs within 6 ranks.
    const ips = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
    expect(workerSourceSlices(input({ sourceIps: ips }), RANGE)).toEqual(new Map(ips.map((ip) => [ip, FIRST_HALF])));
    expect(workerSourceSlices(input({ sourceIps: ips, workerIndex: 1 }), RANGE)).toEqual(
      new Map(ips.map((ip) => [ip, SECOND_HALF])),
    );
  });

  it('follows blocks of targets: two targets make both workers share both addresses', () => {
    // Ranks 0,1 → .2, ranks 2,3 → .3 (blocks of 2), workers alternate within each block.
    const slices = workerSourceSlices(input({ targetCountOf: () => 2, workerIndex: 1 }), RANGE);
    expect(slices).toEqual(
      new Map([
        ['127.0.0.2', SECOND_HALF],
        ['127.0.0.3', SECOND_HALF],
      ]),
    );
  });

  it("counts a shard's devices by their rank in it", () => {
    // Shard 2/2 holds ids 1, 3, 5…: ranks 0, 1, 2… — the same spread as an unsharded run.
    expect(workerSourceSlices(input({ shardIndex: 1, shardCount: 2 }), RANGE)).toEqual(new Map([['127.0.0.2', FULL]]));
  });

  it('leaves out cohorts without run targets (they bind no address)', () => {
    // Ids of cohort "own targets" (odd ids here) bind nothing; worker 1 holds only those.
    const slices = workerSourceSlices(input({ workerIndex: 1, targetCountOf: (id) => (id % 2 === 1 ? 0 : 1) }), RANGE);
    expect(slices).toEqual(new Map());
  });
});
