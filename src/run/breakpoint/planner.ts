/**
 * The breakpoint search as a pure function: given the levels measured so far and their verdicts,
 * the next rate to run, or "done" with the breakpoint and its bracket. Geometric step-up from
 * startRate until a level fails, then bisection between the last passing and the first failing
 * rate until the gap is within the resolution. A level where the harness was the limit ends the
 * search: it is never taken as the target's breakpoint.
 */

import type { LevelVerdict, SearchEnd, SearchSettings } from '../../results/breakpoint-types.js';

export type { LevelVerdict, SearchEnd, SearchSettings };

export interface MeasuredLevel {
  rate: number;
  verdict: LevelVerdict;
}

export type NextStep =
  | { done: false; rate: number; phase: 'step-up' | 'step-down' | 'bisect' }
  | {
      done: true;
      end: SearchEnd;
      /** Highest passing rate (null when none passed). */
      rate: number | null;
      /** Lowest failing rate above it (null when none failed). */
      failedAt: number | null;
      /** Lowest rate at which the harness was the limit (null when it never was). */
      harnessAt: number | null;
    };

/** Rates are whole connections per second, so levels are reproducible and printable. */
function whole(rate: number): number {
  return Math.max(1, Math.round(rate));
}

export function nextLevel(levels: readonly MeasuredLevel[], s: SearchSettings): NextStep {
  const harness = levels.filter((l) => l.verdict === 'harness').map((l) => l.rate);
  const passed = levels.filter((l) => l.verdict === 'passed').map((l) => l.rate);
  const failed = levels.filter((l) => l.verdict === 'failed').map((l) => l.rate);
  const harnessAt = harness.length > 0 ? Math.min(...harness) : null;
  const failedAt = failed.length > 0 ? Math.min(...failed) : null;
  // Only passes below the first failure count: a pass above it is noise the bracket cannot use.
  const lo = passed.filter((r) => failedAt === null || r < failedAt);
  const best = lo.length > 0 ? Math.max(...lo) : null;

  if (harnessAt !== null) {
    // A failure below the harness limit is still the target's: report it as found.
    if (failedAt !== null && failedAt < harnessAt && best !== null) {
      return bracketOrBisect(best, failedAt, levels.length, s, harnessAt);
    }
    return {
      done: true,
      end: 'harness',
      rate: best !== null && best < harnessAt ? best : null,
      failedAt: null,
      harnessAt,
    };
  }
  if (levels.length === 0) return { done: false, rate: whole(Math.min(s.startRate, s.maxRate)), phase: 'step-up' };

  if (failedAt === null) {
    const top = best as number;
    if (top >= s.maxRate) return { done: true, end: 'held-max', rate: top, failedAt: null, harnessAt: null };
    if (levels.length >= s.maxLevels) return { done: true, end: 'budget', rate: top, failedAt: null, harnessAt: null };
    // At least one more per second, so a small rate times a small factor still moves.
    return {
      done: false,
      rate: Math.min(whole(s.maxRate), Math.max(top + 1, whole(top * s.factor))),
      phase: 'step-up',
    };
  }
  if (best === null) {
    if (failedAt <= s.minRate) return { done: true, end: 'below-min', rate: null, failedAt, harnessAt: null };
    if (levels.length >= s.maxLevels) return { done: true, end: 'budget', rate: null, failedAt, harnessAt: null };
    return {
      done: false,
      rate: Math.min(failedAt - 1, whole(Math.max(s.minRate, failedAt / s.factor))),
      phase: 'step-down',
    };
  }
  return bracketOrBisect(best, failedAt, levels.length, s, null);
}

function bracketOrBisect(lo: number, hi: number, ran: number, s: SearchSettings, harnessAt: number | null): NextStep {
  const mid = whole((lo + hi) / 2);
  if (hi - lo <= s.resolution * lo || mid <= lo || mid >= hi) {
    return { done: true, end: 'found', rate: lo, failedAt: hi, harnessAt };
  }
  if (ran >= s.maxLevels) return { done: true, end: 'budget', rate: lo, failedAt: hi, harnessAt };
  return { done: false, rate: mid, phase: 'bisect' };
}
