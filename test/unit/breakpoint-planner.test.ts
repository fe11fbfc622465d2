import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { nextLevel, type MeasuredLevel, type NextStep, type SearchSettings } from '../../src/run/breakpoint/planner.js';

const S: SearchSettings = { startRate: 50, factor: 2, resolution: 0.1, minRate: 5, maxRate: 20_000, maxLevels: 14 };

/** Runs the planner against a target that passes every rate ≤ limit (and a harness limit, if any). */
function search(limit: number, s = S, harnessLimit = Infinity): { rates: number[]; end: NextStep } {
  const levels: MeasuredLevel[] = [];
  for (let i = 0; i < 200; i++) {
    const step = nextLevel(levels, s);
    if (step.done) return { rates: levels.map((l) => l.rate), end: step };
    const verdict = step.rate >= harnessLimit ? 'harness' : step.rate <= limit ? 'passed' : 'failed';
    levels.push({ rate: step.rate, verdict });
  }
  throw new Error('the planner never finished');
}

describe('breakpoint planner', () => {
  it('starts at startRate', () => {
    expect(nextLevel([], S)).toEqual({ done: false, rate: 50, phase: 'step-up' });
  });

  it('steps up geometrically, then bisects to the resolution', () => {
    const { rates, end } = search(330);
    expect(rates).toEqual([50, 100, 200, 400, 300, 350, 325]);
    expect(end).toEqual({ done: true, end: 'found', rate: 325, failedAt: 350, harnessAt: null });
  });

  it('names the phase of each level', () => {
    expect(nextLevel([{ rate: 50, verdict: 'passed' }], S)).toEqual({ done: false, rate: 100, phase: 'step-up' });
    expect(
      nextLevel(
        [
          { rate: 50, verdict: 'passed' },
          { rate: 100, verdict: 'failed' },
        ],
        S,
      ),
    ).toEqual({ done: false, rate: 75, phase: 'bisect' });
    expect(nextLevel([{ rate: 50, verdict: 'failed' }], S)).toEqual({ done: false, rate: 25, phase: 'step-down' });
  });

  it('steps down when the first level fails, and stops at minRate', () => {
    expect(search(30)).toEqual({
      rates: [50, 25, 38, 32, 29, 31],
      end: { done: true, end: 'found', rate: 29, failedAt: 31, harnessAt: null },
    });
    const none = search(1);
    expect(none.rates).toEqual([50, 25, 13, 7, 5]);
    expect(none.end).toEqual({ done: true, end: 'below-min', rate: null, failedAt: 5, harnessAt: null });
  });

  it('a target that holds maxRate has no breakpoint below it', () => {
    const s = { ...S, maxRate: 300 };
    expect(search(10_000, s)).toEqual({
      rates: [50, 100, 200, 300],
      end: { done: true, end: 'held-max', rate: 300, failedAt: null, harnessAt: null },
    });
  });

  it('never takes a harness-limited level as the breakpoint', () => {
    const { rates, end } = search(10_000, S, 700);
    expect(rates).toEqual([50, 100, 200, 400, 800]);
    expect(end).toEqual({ done: true, end: 'harness', rate: 400, failedAt: null, harnessAt: 800 });
  });

  it('keeps bisecting below a harness limit when the target failed first', () => {
    const levels: MeasuredLevel[] = [
      { rate: 100, verdict: 'passed' },
      { rate: 200, verdict: 'failed' },
      { rate: 400, verdict: 'harness' },
    ];
    expect(nextLevel(levels, S)).toEqual({ done: false, rate: 150, phase: 'bisect' });
  });

  it('stops at maxLevels with the bracket it has', () => {
    const { rates, end } = search(330, { ...S, maxLevels: 5 });
    expect(rates).toEqual([50, 100, 200, 400, 300]);
    expect(end).toEqual({ done: true, end: 'budget', rate: 300, failedAt: 400, harnessAt: null });
  });

  it('invariants: the bracket holds the true limit, within the resolution, every level is in range', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 10, max: 15_000 }),
        fc.integer({ min: 1, max: 500 }),
        fc.double({ min: 1.2, max: 4, noNaN: true }),
        (limit, start, factor) => {
          const s = { ...S, startRate: start, factor, maxLevels: 100 };
          const { rates, end } = search(limit, s);
          if (!end.done) return false;
          for (const r of rates)
            expect(Number.isInteger(r) && r >= Math.min(start, s.minRate) && r <= s.maxRate).toBe(true);
          expect(new Set(rates).size).toBe(rates.length);
          expect(end.end).toBe('found');
          const lo = end.rate as number;
          const hi = end.failedAt as number;
          expect(lo <= limit && limit < hi).toBe(true);
          expect(hi - lo <= Math.max(1, s.resolution * lo)).toBe(true);
          return true;
        },
      ),
      { numRuns: 300 },
    );
  });
});
