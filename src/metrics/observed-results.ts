/**
 * Observed outages as results: the joined events (observed-merge.ts) become the same OutageResult
 * records injected outages have, so every report, `recovery.*` threshold and `herd compare` reads
 * them alike (their peaks added with the planned ones': outage-peaks.ts).
 */
import type { TimelineBucket } from '../results/types.js';
import { recoveryPercentiles } from './accounting.js';
import { encodeHistogram } from './histogram.js';
import { mergeObservedOutages, type ObservedPart } from './observed-merge.js';
import type { OutageWithoutPeaks } from './outage-peaks.js';

export const OBSERVED_MODE = 'observed';

/**
 * Joins the parts and renders them, named observed-1, observed-2… in time order. An event the
 * target never accepted a connect after lasts until the run's end: `runEndUs` (the planned
 * teardown) or the end of the timeline if sooner; its recovery is null (never).
 */
export function observedOutageResults(
  parts: readonly ObservedPart[],
  toleranceUs: number,
  timeline: readonly TimelineBucket[],
  runEndUs: number,
): OutageWithoutPeaks[] {
  // A run stopped early (Ctrl-C, an abort) ends with its timeline, before the planned teardown.
  const lastUs = timeline.length === 0 ? runEndUs : Math.min(runEndUs, timeline.length * 1e6);
  return mergeObservedOutages(parts, toleranceUs).map((e, i) => {
    const endUs = e.acceptedUs ?? Math.max(e.atUs, lastUs);
    const att = e.attempts;
    const none = att.totalCount === 0;
    return {
      name: `observed-${i + 1}`,
      side: 'observed',
      atUs: e.atUs,
      offlineUs: endUs - e.atUs,
      mode: OBSERVED_MODE,
      targetAcceptedAgain: e.acceptedUs !== null,
      dropped: e.dropped,
      recovered: e.recovered,
      // Not counted for an observed outage: a device a planned outage hits again is only not back.
      interrupted: 0,
      recovery: recoveryPercentiles(e),
      reconnectAttempts: {
        p50: none ? 0 : att.getValueAtPercentile(50),
        p99: none ? 0 : att.getValueAtPercentile(99),
        max: none ? 0 : att.maxValue,
      },
      recoveryHistogram: encodeHistogram(e.recoveryUs),
      attemptsHistogram: encodeHistogram(att),
    };
  });
}
