/**
 * AfterReads (src/engine/after-reads.ts) on a fake clock: the judgement runs in the immediate after
 * the tick; waits while the transport is behind, 64 loop turns at most; one pending at a time; none
 * once the run tears down.
 */
import { describe, expect, it } from 'vitest';
import { AfterReads } from '../../src/engine/after-reads.js';
import { FakeClock } from '../helpers/fake-clock.js';

function setup(behindTurns: number): {
  clock: FakeClock;
  reads: AfterReads;
  judged: number[];
  asked: () => number;
  live: { v: boolean };
} {
  const clock = new FakeClock(1_000);
  const judged: number[] = [];
  let asked = 0;
  const live = { v: true };
  const reads = new AfterReads(
    clock,
    () => ++asked <= behindTurns,
    () => live.v,
    (now) => judged.push(now),
  );
  return { clock, reads, judged, asked: () => asked, live };
}

describe('AfterReads', () => {
  it('judges in the next immediate when nothing is behind, once however often scheduled', () => {
    const t = setup(0);
    t.reads.schedule();
    t.reads.schedule();
    expect(t.judged).toEqual([]);
    t.clock.advanceTo(1_000);
    expect(t.judged).toEqual([1_000]);
    expect(t.asked()).toBe(1);
  });

  it('waits one turn per "behind", and 64 turns at most', () => {
    const three = setup(3);
    three.reads.schedule();
    three.clock.advanceTo(1_000);
    expect(three.judged).toEqual([1_000]);
    expect(three.asked()).toBe(4);
    const always = setup(Infinity);
    always.reads.schedule();
    always.clock.advanceTo(1_000);
    expect(always.judged).toEqual([1_000]);
    expect(always.asked()).toBe(65);
  });

  it('drops a pending judgement once the run tears down', () => {
    const t = setup(0);
    t.reads.schedule();
    t.live.v = false;
    t.clock.advanceTo(1_000);
    expect(t.judged).toEqual([]);
    t.live.v = true;
    t.reads.schedule(); // not stuck pending
    t.clock.advanceTo(1_000);
    expect(t.judged).toEqual([1_000]);
  });
});
