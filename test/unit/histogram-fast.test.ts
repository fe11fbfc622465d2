/**
 * recordInteger (src/metrics/histogram.ts) takes a value's counts index in integer arithmetic where
 * hdr-histogram-js takes it with log2 and pow: the same index, the same histogram, for every value.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHistogram, encodeHistogram, recordInteger, type Histogram } from '../../src/metrics/histogram.js';

/** The library's own index of a value, and its counts (both public in JsHistogram's typings). */
interface Parts {
  countsArrayIndex(v: number): number;
  countsArrayLength: number;
}
const parts = (h: Histogram): Parts => h as unknown as Parts;

/** Both ways, into two fresh histograms: [fast, library]. */
function both(values: readonly number[]): [Histogram, Histogram] {
  const fast = createHistogram();
  const lib = createHistogram();
  for (const v of values) {
    recordInteger(fast, v);
    lib.recordValue(v);
  }
  return [fast, lib];
}

/** Every power of two from 1 to 2^33 and its neighbours: where the bucket changes. */
const EDGES = Array.from({ length: 34 }, (_, k) => [2 ** k - 1, 2 ** k, 2 ** k + 1]).flat();

describe('recordInteger', () => {
  it('counts every value below 70,000 and at every bucket edge where the library does', () => {
    const values = [...Array.from({ length: 70_000 }, (_, v) => v), ...EDGES.filter((v) => v < 2 ** 31)];
    const [fast, lib] = both(values);
    // Each value alone in its own pair: the one count sits at the library's index for it.
    const misplaced = values.filter((v) => {
      const f = createHistogram();
      recordInteger(f, v);
      return (
        (f as unknown as { getCountAtIndex(i: number): number }).getCountAtIndex(parts(lib).countsArrayIndex(v)) !== 1
      );
    });
    expect(misplaced).toEqual([]);
    expect(encodeHistogram(fast)).toBe(encodeHistogram(lib));
  });

  it('takes its own path for values below 2^31 inside the counts array, the library’s beyond', () => {
    const h = createHistogram();
    let library = 0;
    const recordValue = h.recordValue.bind(h);
    h.recordValue = (v: number) => {
      library++;
      recordValue(v);
    };
    for (const v of [0, 1, 2047, 2048, 1_000_000, 2 ** 31 - 1]) recordInteger(h, v);
    expect(library).toBe(0); // 2^31 − 1 µs (36 min) is inside the counts array (2 h)
    recordInteger(h, 2 ** 31);
    expect([library, h.totalCount]).toEqual([1, 7]);
  });

  it('makes the histogram recordValue makes: counts, min, max, total, encoded form', () => {
    const [fast, lib] = both([0, 0, 1, 3, 999, 1024, 2047, 2048, 65_535, 1_000_000, 59_999_999, ...EDGES]);
    expect(fast.totalCount).toBe(lib.totalCount);
    expect(fast.maxValue).toBe(lib.maxValue);
    expect(fast.minNonZeroValue).toBe(lib.minNonZeroValue);
    expect(encodeHistogram(fast)).toBe(encodeHistogram(lib));
  });

  it('resizes as the library does for a value past the counts array (2 h and beyond)', () => {
    const big = [2 * 60 * 60 * 1_000_000 + 1, 2 ** 31 - 1, 2 ** 31, 2 ** 40];
    const [fast, lib] = both([5, ...big]);
    expect(parts(fast).countsArrayLength).toBe(parts(lib).countsArrayLength);
    expect(parts(fast).countsArrayLength).toBeGreaterThan(parts(createHistogram()).countsArrayLength);
    expect(encodeHistogram(fast)).toBe(encodeHistogram(lib));
  });

  it('agrees with the library on any draw of values', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 34 }), { minLength: 1, maxLength: 200 }), (values) => {
        const [fast, lib] = both(values);
        expect(encodeHistogram(fast)).toBe(encodeHistogram(lib));
        expect([fast.totalCount, fast.maxValue, fast.minNonZeroValue]).toEqual([
          lib.totalCount,
          lib.maxValue,
          lib.minNonZeroValue,
        ]);
      }),
      { numRuns: 300 },
    );
  });
});
