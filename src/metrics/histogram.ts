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
    recordInteger(h, 0);
    return false;
  }
  recordInteger(h, v);
  return true;
}

/**
 * The parts of hdr-histogram-js's JsHistogram (public in its typings, not in the `Histogram`
 * interface) that its recordValue() uses once it has a value's index.
 */
interface JsHistogramParts {
  countsArrayLength: number;
  subBucketHalfCountMagnitude: number;
  subBucketHalfCount: number;
  unitMagnitude: number;
  incrementCountAtIndex(index: number): void;
  updateMinAndMax(value: number): void;
  incrementTotalCount(): void;
}

/** Whether the library's histograms have those parts (checked once: a library update could rename them). */
const HAS_PARTS = ((h: JsHistogramParts): boolean =>
  [h.incrementCountAtIndex, h.updateMinAndMax, h.incrementTotalCount].every((f) => typeof f === 'function') &&
  [h.countsArrayLength, h.subBucketHalfCountMagnitude, h.subBucketHalfCount, h.unitMagnitude].every(Number.isInteger))(
  createHistogram() as unknown as JsHistogramParts,
);

/**
 * `h.recordValue(v)` for an integer v ≥ 0, with the counts index in integer arithmetic: the
 * library takes it with Math.log2 and two Math.pow per value — most of its cost, and herd records
 * several values per connection. Same index (test/unit/histogram-fast.test.ts checks it against
 * the library's own countsArrayIndex); values from 2^31 and any index past the counts array (a
 * resize) take the library's path.
 */
export function recordInteger(h: Histogram, v: number): void {
  const j = h as unknown as JsHistogramParts;
  if (v >= 0x80000000 || !HAS_PARTS) {
    h.recordValue(v);
    return;
  }
  const half = j.subBucketHalfCountMagnitude;
  const unit = j.unitMagnitude;
  // floor(log2(v)) − half − unit, at least 0 (v = 0: bucket 0).
  const bucket = Math.max(31 - Math.clz32(v) - half - unit, 0);
  const index = ((bucket + 1) << half) + (v >>> (bucket + unit)) - j.subBucketHalfCount;
  if (index >= j.countsArrayLength) {
    h.recordValue(v);
    return;
  }
  j.incrementCountAtIndex(index);
  j.updateMinAndMax(v);
  j.incrementTotalCount();
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
