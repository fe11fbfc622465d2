/** The embedded target's lag probe counts only lateness inside the run's measured span (fake clock, exact ms). */
import { describe, expect, it } from 'vitest';
import { LagProbe, LAG_BOUND_MS } from '../../src/target/lag.js';

function probe(): { p: LagProbe; at: (ms: number) => void } {
  let now = 0;
  return { p: new LagProbe(() => now), at: (ms) => (now = ms) };
}

describe('LagProbe', () => {
  it('counts every lateness before a span is given (herd target on its own has no run)', () => {
    const { p, at } = probe();
    at(500);
    p.record(150);
    expect(p.lag).toEqual({ boundMs: LAG_BOUND_MS, maxMs: 150, overBoundTotal: 1, busySeconds: 0 });
  });

  it('counts only the part of a late stretch inside [origin, plan end]', () => {
    const { p, at } = probe();
    p.measure(1_000, 2_000);
    // Late over [800, 950]: before the origin, no device had asked anything.
    at(950);
    p.record(150);
    expect(p.lag.maxMs).toBe(0);
    // Late over [950, 1_100]: 100 ms of it inside, not over the bound.
    at(1_100);
    p.record(150);
    expect(p.lag).toMatchObject({ maxMs: 100, overBoundTotal: 0 });
    // Late over [1_500, 1_800]: all inside.
    at(1_800);
    p.record(300);
    expect(p.lag).toMatchObject({ maxMs: 300, overBoundTotal: 1 });
    // Late over [1_950, 2_400]: the teardown after the plan's end; 50 ms inside.
    at(2_400);
    p.record(450);
    expect(p.lag).toMatchObject({ maxMs: 300, overBoundTotal: 1 });
    // Late over [2_100, 2_600]: wholly after the end.
    at(2_600);
    p.record(500);
    expect(p.lag).toMatchObject({ maxMs: 300, overBoundTotal: 1 });
    // A stall over the whole span counts as long as the span.
    at(3_000);
    p.record(2_500);
    expect(p.lag).toMatchObject({ maxMs: 1_000, overBoundTotal: 2 });
  });

  it('an early tick (negative lateness) counts as on time', () => {
    const { p, at } = probe();
    p.measure(0, 1_000);
    at(500);
    p.record(-3);
    expect(p.lag).toMatchObject({ maxMs: 0, overBoundTotal: 0 });
  });
});
