/**
 * One HDR histogram configuration everywhere (MEASUREMENT.md rule 7): integer microseconds,
 * 3 significant digits, auto-resizing. Values are rounded explicitly; negatives are clamped to 0
 * and counted by the caller. Histograms cross process boundaries only as compressed base64 text.
 */
import * as hdr from 'hdr-histogram-js';
import type { LatencySummary } from '../report/results-types.js';

export type Histogram = hdr.Histogram;

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

export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

/** A string that is not an encoded histogram (a hand-edited or foreign results file). */
export class HistogramDecodeError extends Error {}

export function decodeHistogram(encoded: string): Histogram {
  let h: Histogram;
  try {
    h = hdr.decodeFromCompressedBase64(encoded, 32, false);
  } catch (err) {
    throw new HistogramDecodeError(`not an encoded HDR histogram (${err instanceof Error ? err.message : String(err)})`);
  }
  h.autoResize = true;
  return h;
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
