/**
 * An outage's peaks, read from the run's timeline over the outage's own stretch of the run: attempts
 * per second and handshakes in flight from its start, successful connects per second from the
 * second in which it ended — each until the next outage starts (or the run ends). A later outage's
 * storm is then never counted as an earlier one's, and a quick recovery is counted in the second it
 * happened in: with two identical outages 8 s apart, the first once showed the second's 2,564
 * successes/s and the second only the 436 of its last partial second.
 */
import type { OutageResult, TimelineBucket } from '../results/types.js';

export interface OutagePeaks {
  peakAttemptsPerS: number;
  peakHandshaking: number;
  peakSucceededPerSAfterEnd: number;
}

/** An outage as its producers (planned, observed) make it; withOutagePeaks adds the peaks. */
export type OutageWithoutPeaks = Omit<OutageResult, keyof OutagePeaks>;

/** Every outage with its peaks over its own stretch of the timeline: to the next outage's start, of any kind. */
export function withOutagePeaks(
  timeline: readonly TimelineBucket[],
  outages: readonly OutageWithoutPeaks[],
): OutageResult[] {
  const starts = outages.map((o) => o.atUs);
  return outages.map((o) => ({ ...o, ...outagePeaks(timeline, o, nextStartUs(o.atUs, starts)) }));
}

/** The earliest of `startsUs` after `atUs` (the next outage's start), or Infinity. */
export function nextStartUs(atUs: number, startsUs: readonly number[]): number {
  return startsUs.reduce((m, s) => (s > atUs && s < m ? s : m), Infinity);
}

/** Peaks over the timeline seconds from the outage's start that begin before `untilUs`. */
export function outagePeaks(
  timeline: readonly TimelineBucket[],
  o: { atUs: number; offlineUs: number },
  untilUs: number,
): OutagePeaks {
  const from = Math.floor(o.atUs / 1e6);
  const endS = Math.floor((o.atUs + o.offlineUs) / 1e6);
  const p: OutagePeaks = { peakAttemptsPerS: 0, peakHandshaking: 0, peakSucceededPerSAfterEnd: 0 };
  for (const b of timeline) {
    if (b.t < from || b.t * 1e6 >= untilUs) continue;
    p.peakAttemptsPerS = Math.max(p.peakAttemptsPerS, b.attempts);
    p.peakHandshaking = Math.max(p.peakHandshaking, b.peakHandshaking);
    if (b.t >= endS) p.peakSucceededPerSAfterEnd = Math.max(p.peakSucceededPerSAfterEnd, b.succeeded);
  }
  return p;
}
