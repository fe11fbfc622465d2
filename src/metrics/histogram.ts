/**
 * One HDR histogram configuration everywhere: integer microseconds,
 * 3 significant digits, auto-resizing. Values are rounded explicitly; negatives are clamped to 0
 * and counted by the caller. Histograms cross process boundaries only as compressed base64 text.
 */
import * as hdr from 'hdr-histogram-js';
import type { LatencySummary } from '../results/types.js';
import { decodeHistogram, encodeHistogram, HistogramDecodeError, type Histogram } from '../results/histogram-codec.js';

// The encoded form is part of the results contract (results/); re-exported so histogram users have one module.
export { decodeHistogram, encodeHistogram, HistogramDecodeError, type Histogram };

export const SIGNIFICANT_DIGITS = 3;

export function createHistogram(): Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 2 * 60 * 60 * 1_000_000,
    numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
    bitBucketSize: 32,
    autoResize: true,
    useWebAssembly: false,
  });
}

/** Records a µs value; returns false when the value was negative and clamped to 0. */
export function recordUs(h: Histogram, valueUs: number): boolean {
  const v = Math.round(valueUs);
  if (v < 0) {
    h.recordValue(0);
    return false;
  }
  h.recordValue(v);
  return true;
}

/** Adds an encoded histogram into an accumulator (merging is exact: counts add). */
export function addEncoded(into: Histogram, encoded: string): void {
  const other = decodeHistogram(encoded);
  into.add(other);
  other.destroy();
}

export function summarize(h: Histogram): LatencySummary {
  const count = h.totalCount;
  const at = (p: number): number => (count === 0 ? 0 : h.getValueAtPercentile(p));
  return {
    count,
    minUs: count === 0 ? 0 : minValue(h),
    meanUs: count === 0 ? 0 : Math.round(h.mean),
    p50Us: at(50),
    p90Us: at(90),
    p99Us: at(99),
    p999Us: at(99.9),
    maxUs: count === 0 ? 0 : h.maxValue,
    histogram: encodeHistogram(h),
  };
}

function minValue(h: Histogram): number {
  // minNonZeroValue ignores recorded zeros; the 0th percentile does not.
  return h.getValueAtPercentile(0);
}
