/** An outage's peaks over its own stretch of the timeline (pure, exact counts). */
import { describe, expect, it } from 'vitest';
import { nextStartUs, outagePeaks } from '../../src/metrics/outage-peaks.js';
import type { TimelineBucket } from '../../src/results/types.js';

/** Seconds 0…24: `succeeded`, `attempts` and `peakHandshaking` given per second, 0 elsewhere. */
function timeline(succeeded: Record<number, number>, attempts: Record<number, number> = succeeded): TimelineBucket[] {
  return Array.from(
    { length: 25 },
    (_, t) =>
      ({
        t,
        attempts: attempts[t] ?? 0,
        succeeded: succeeded[t] ?? 0,
        peakHandshaking: Math.ceil((attempts[t] ?? 0) / 10),
      }) as unknown as TimelineBucket,
  );
}

describe('outage peaks', () => {
  // Two identical outages, 8 s apart, each ending 1 ms after it starts; every device is back within
  // the second that follows: 2,564 then 436 successes (a run on 2026-12-07, 3,000 devices).
  const tl = timeline({ 10: 2564, 11: 436, 18: 2564, 19: 436 }, { 10: 2565, 11: 436, 18: 2565, 19: 436 });
  const o1 = { atUs: 10_000_000, offlineUs: 1_000 };
  const o2 = { atUs: 18_000_000, offlineUs: 1_000 };
  const starts = [o1.atUs, o2.atUs];

  it('the next outage’s start bounds an outage’s peaks', () => {
    expect(nextStartUs(o1.atUs, starts)).toBe(18_000_000);
    expect(nextStartUs(o2.atUs, starts)).toBe(Infinity);
    expect(outagePeaks(tl, o1, nextStartUs(o1.atUs, starts))).toEqual({
      peakAttemptsPerS: 2565,
      peakHandshaking: 257,
      peakSucceededPerSAfterEnd: 2564,
    });
  });

  it('counts the second in which the outage ended', () => {
    expect(outagePeaks(tl, o2, Infinity).peakSucceededPerSAfterEnd).toBe(2564);
  });

  it('a later outage’s storm is not an earlier one’s', () => {
    // The first outage's own storm was 300/s; the second's 2,564/s.
    const quiet = timeline({ 10: 300, 18: 2564 });
    expect(outagePeaks(quiet, o1, 18_000_000)).toEqual({
      peakAttemptsPerS: 300,
      peakHandshaking: 30,
      peakSucceededPerSAfterEnd: 300,
    });
  });

  it('successes before the end second are not after it; attempts from the start second are', () => {
    const long = { atUs: 5_500_000, offlineUs: 3_000_000 }; // 5.5 s → 8.5 s
    const t = timeline({ 5: 900, 6: 0, 8: 40, 9: 700 }, { 5: 900, 7: 1200, 8: 40, 9: 700 });
    expect(outagePeaks(t, long, Infinity)).toEqual({
      peakAttemptsPerS: 1200,
      peakHandshaking: 120,
      peakSucceededPerSAfterEnd: 700,
    });
  });
});
