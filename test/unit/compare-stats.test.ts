import { describe, expect, it } from 'vitest';
import { createHistogram, encodeHistogram, recordUs } from '../../src/metrics/histogram.js';
import {
  blockVariance,
  clustering,
  countAbove,
  distribution,
  fromEncoded,
  mergeDistributions,
  percentileUs,
  quantileTest,
  spread,
  tFromZ,
  tTwoSidedP,
  twoProportionTest,
  twoSidedP,
} from '../../src/compare/stats.js';
import { largestFloor, precisionFloorUs, staticFloor } from '../../src/compare/floors.js';

function encoded(values: number[]): string {
  const h = createHistogram();
  for (const v of values) recordUs(h, v);
  const out = encodeHistogram(h);
  h.destroy();
  return out;
}

const range = (from: number, count: number, step = 1): number[] =>
  Array.from({ length: count }, (_, i) => from + i * step);

describe('compare statistics', () => {
  it('percentiles follow HdrHistogram: the smallest value with ceil(q·n) samples at or below it', () => {
    const d = distribution(range(1, 100).map((v) => [v, 1] as const));
    expect(percentileUs(d, 50)).toBe(50);
    expect(percentileUs(d, 90)).toBe(90);
    expect(percentileUs(d, 99)).toBe(99);
    expect(percentileUs(d, 99.5)).toBe(100);
    expect(percentileUs(distribution([]), 50)).toBeNull();
    // Equal values add up, order does not matter.
    expect(
      distribution([
        [5, 1],
        [3, 2],
        [5, 4],
      ]),
    ).toEqual({ valuesUs: [3, 5], counts: [2, 5], total: 7 });
    expect(countAbove(d, 90)).toBe(10);
  });

  it('decodes a results histogram to the numbers the run reported', () => {
    // Below 2048 µs HDR at 3 significant digits is exact; above, buckets are 2 µs wide and a
    // value reads as its bucket's highest equivalent value (3000 → 3001), as in the report.
    const d = fromEncoded(encoded([1000, 1000, 1500, 3000]));
    expect(d).toEqual({ valuesUs: [1000, 1500, 3001], counts: [2, 1, 1], total: 4 });
    expect(fromEncoded('')).toEqual({ valuesUs: [], counts: [], total: 0 });
    const merged = mergeDistributions([d, fromEncoded(encoded([1500]))]);
    expect(merged).toEqual({ valuesUs: [1000, 1500, 3001], counts: [2, 2, 1], total: 5 });
  });

  it('two-proportion z-test: 0 of 1,000 against 20 of 1,000', () => {
    const t = twoProportionTest(0, 1000, 20, 1000);
    // pooled 0.01; se = √(0.01 · 0.99 · (1/1000 + 1/1000)) = 0.0044497
    expect(t?.z).toBeCloseTo(0.02 / Math.sqrt(0.01 * 0.99 * 0.002), 10);
    expect(t?.z).toBeCloseTo(4.4947, 4);
    expect(t?.p).toBeCloseTo(6.97e-6, 7);
    // Nothing varies: no test.
    expect(twoProportionTest(0, 1000, 0, 1000)).toBeNull();
    expect(twoProportionTest(0, 0, 1, 10)).toBeNull();
    expect(twoSidedP(2.5758)).toBeCloseTo(0.01, 5);
  });

  it('quantile test: two shifted uniform samples, counted above the pooled median', () => {
    const base = distribution(range(1, 100).map((v) => [v, 1] as const));
    const cand = distribution(range(11, 100).map((v) => [v, 1] as const));
    const t = quantileTest(base, cand, 50);
    // Pooled: 1–10 once, 11–100 twice, 101–110 once; the 100th of 200 is 55.
    expect(t).toMatchObject({ pooledUs: 55, baseAbove: 45, candAbove: 55 });
    expect(t?.z).toBeCloseTo(0.1 / Math.sqrt(0.25 * 0.02), 10);
  });

  it("Student's t from the normal quantile is within 1% of the table from 4 degrees of freedom", () => {
    expect(tFromZ(2.5758, 4)).toBeCloseTo(4.604, 1);
    expect(tFromZ(2.5758, 9)).toBeCloseTo(3.25, 2);
    expect(tFromZ(1.96, 20)).toBeCloseTo(2.086, 2);
    expect(tFromZ(2.5758, Infinity)).toBe(2.5758);
    expect(tTwoSidedP(3.25, 9)).toBeCloseTo(0.01, 3);
    expect(tTwoSidedP(2.086, 20)).toBeCloseTo(0.05, 3);
    expect(tTwoSidedP(2.5758, Infinity)).toBeCloseTo(0.01, 5);
  });

  it('block variance and the design effect of samples grouped in seconds', () => {
    expect(
      blockVariance([
        { x: 1, n: 10 },
        { x: 3, n: 10 },
      ]),
    ).toEqual({ share: 0.2, cluster: (2 * 2) / 400, iid: (0.2 * 0.8) / 20, k: 2 });
    // Evenly spread: no more variance than independent samples (never less: clamped to 1).
    const even = Array.from({ length: 10 }, () => ({ x: 2, n: 100 }));
    expect(clustering(even, even)).toEqual({ designEffect: 1, df: Infinity });
    // 20 failures all in one second of ten: the variance is 20.4 times what independence says.
    const burst = [{ x: 20, n: 100 }, ...Array.from({ length: 9 }, () => ({ x: 0, n: 100 }))];
    const none = Array.from({ length: 10 }, () => ({ x: 0, n: 100 }));
    const c = clustering(none, burst);
    const cluster = ((10 / 9) * ((20 - 2) ** 2 + 9 * 2 ** 2)) / 1000 ** 2;
    expect(c.designEffect).toBeCloseTo(cluster / ((0.02 * 0.98) / 1000), 10);
    expect(c.designEffect).toBeCloseTo(20.408, 3);
    expect(c.df).toBeCloseTo(9, 10);
    // Too few blocks to trust their variance.
    expect(clustering(burst.slice(0, 2), burst.slice(0, 2))).toEqual({ designEffect: 1, df: Infinity });
  });

  it('floors: histogram precision, the static floor by kind, the largest wins', () => {
    expect(precisionFloorUs(16079, 20000)).toBe(40);
    expect(precisionFloorUs(300)).toBe(1);
    expect(precisionFloorUs(Infinity, 5000)).toBe(10);
    expect(staticFloor('us', 'p50', false)).toEqual({ amount: 250, why: 'p50 noise floor' });
    expect(staticFloor('us', 'p100', true)).toEqual({ amount: 250_000, why: 'recovery noise floor' });
    expect(staticFloor('us', 'max', false)).toEqual({ amount: 50_000, why: 'max noise floor' });
    expect(staticFloor('ratio', 'rate', false)).toEqual({ amount: 0.001, why: 'share noise floor' });
    expect(staticFloor('count', 'x', false)).toBeNull();
    expect(largestFloor([null, { amount: 3, why: 'a' }, { amount: 7, why: 'b' }])).toEqual({ amount: 7, why: 'b' });
    expect(spread([3, 9, 5])).toBe(6);
    expect(spread([3])).toBe(0);
  });
});
