/**
 * The statistics behind `herd compare` (pure): latency distributions as plain (value, count) data
 * decoded from the runs' HDR histograms, percentiles by HdrHistogram's own rule, the two-proportion
 * z-test for rates, and a quantile test that asks whether a percentile moved by more than the
 * sampling noise of the two distributions.
 */
import type { JsHistogram } from 'hdr-histogram-js';
import { errorFunction } from 'simple-statistics';
import { decodeHistogram } from '../metrics/histogram.js';

/** A latency distribution: ascending distinct values (µs) with how many samples sit at each. */
export interface Distribution {
  valuesUs: number[];
  counts: number[];
  total: number;
}

export const EMPTY: Distribution = { valuesUs: [], counts: [], total: 0 };

/** Builds a distribution from (valueUs, count) pairs in any order; equal values are added up. */
export function distribution(pairs: readonly (readonly [number, number])[]): Distribution {
  const byValue = new Map<number, number>();
  for (const [v, c] of pairs) if (c > 0) byValue.set(v, (byValue.get(v) ?? 0) + c);
  const valuesUs = [...byValue.keys()].sort((a, b) => a - b);
  const counts = valuesUs.map((v) => byValue.get(v) as number);
  return { valuesUs, counts, total: counts.reduce((a, b) => a + b, 0) };
}

/**
 * Decodes a results file's histogram. Each value is its HDR bucket's highest equivalent value,
 * which is what HdrHistogram reports as a percentile, so percentileUs() below gives the numbers
 * printed in the run's own report.
 */
export function fromEncoded(encoded: string): Distribution {
  if (encoded === '') return EMPTY;
  const h = decodeHistogram(encoded) as unknown as JsHistogram;
  const pairs: [number, number][] = [];
  const it = h.recordedValuesIterator;
  it.reset();
  while (it.hasNext()) {
    const v = it.next();
    pairs.push([v.valueIteratedTo, v.countAtValueIteratedTo]);
  }
  h.destroy();
  return distribution(pairs);
}

/** Adds distributions (several runs of one side): exact, like merging histograms. */
export function mergeDistributions(ds: readonly Distribution[]): Distribution {
  return distribution(ds.flatMap((d) => d.valuesUs.map((v, i) => [v, d.counts[i] as number] as const)));
}

/**
 * The value at a percentile (0–100], by HdrHistogram's rule: the smallest value with at least
 * ceil(percentile% of the samples) at or below it. null without samples.
 */
export function percentileUs(d: Distribution, percentile: number): number | null {
  if (d.total === 0) return null;
  const rank = Math.max(1, Math.ceil((Math.min(percentile, 100) / 100) * d.total - 1e-9));
  let seen = 0;
  for (let i = 0; i < d.valuesUs.length; i++) {
    seen += d.counts[i] as number;
    if (seen >= rank) return d.valuesUs[i] as number;
  }
  return d.valuesUs[d.valuesUs.length - 1] as number;
}

/** Samples strictly above a value. */
export function countAbove(d: Distribution, valueUs: number): number {
  let n = 0;
  for (let i = d.valuesUs.length - 1; i >= 0 && (d.valuesUs[i] as number) > valueUs; i--) n += d.counts[i] as number;
  return n;
}

/** Two-sided p-value of a standard normal statistic. */
export function twoSidedP(z: number): number {
  return Math.max(0, 1 - errorFunction(Math.abs(z) / Math.SQRT2));
}

export interface ProportionTest {
  /** Candidate share minus base share, in units of its standard error under "no change"; > 0: the candidate's share is higher. */
  z: number;
  /** Two-sided. */
  p: number;
}

/**
 * The pooled two-proportion z-test: base x of n against candidate x of n. null when it cannot say
 * anything (an empty side, or both sides all-or-nothing alike, where nothing varies).
 */
export function twoProportionTest(baseX: number, baseN: number, candX: number, candN: number): ProportionTest | null {
  if (baseN <= 0 || candN <= 0) return null;
  const pooled = (baseX + candX) / (baseN + candN);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / baseN + 1 / candN));
  if (!(se > 0)) return null;
  const z = (candX / candN - baseX / baseN) / se;
  return { z, p: twoSidedP(z) };
}

export interface QuantileTest extends ProportionTest {
  /** The percentile of both runs pooled: the line the test counts samples above. */
  pooledUs: number;
  baseAbove: number;
  candAbove: number;
}

/**
 * Did a percentile move beyond sampling noise? Pools both distributions, takes the pooled
 * percentile, and tests whether the candidate has a different share of its samples above it than
 * the base (Mood's median test generalised to any percentile; rank-based, so it needs no
 * assumption about the shape of latency distributions). z > 0: the candidate is slower there.
 */
export function quantileTest(base: Distribution, cand: Distribution, percentile: number): QuantileTest | null {
  const pooledUs = percentileUs(mergeDistributions([base, cand]), percentile);
  if (pooledUs === null) return null;
  const baseAbove = countAbove(base, pooledUs);
  const candAbove = countAbove(cand, pooledUs);
  const t = twoProportionTest(baseAbove, base.total, candAbove, cand.total);
  return t === null ? null : { ...t, pooledUs, baseAbove, candAbove };
}

/** Largest minus smallest: the spread of one metric over several runs of one side. */
export function spread(values: readonly number[]): number {
  return values.length < 2 ? 0 : Math.max(...values) - Math.min(...values);
}
