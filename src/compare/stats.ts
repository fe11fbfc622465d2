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
  /**
   * Candidate share minus base share, in units of its standard error under "no change"; > 0: the candidate's share is
   * higher.
   */
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

/**
 * Student's t quantile from the normal quantile z with df degrees of freedom, by the
 * Cornish–Fisher expansion (Abramowitz & Stegun 26.7.5): within 1% of the exact value from df 4.
 */
export function tFromZ(z: number, df: number): number {
  if (!Number.isFinite(df)) return z;
  const z3 = z ** 3;
  const z5 = z ** 5;
  const z7 = z ** 7;
  const z9 = z ** 9;
  return (
    z +
    (z3 + z) / (4 * df) +
    (5 * z5 + 16 * z3 + 3 * z) / (96 * df ** 2) +
    (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * df ** 3) +
    (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / (92160 * df ** 4)
  );
}

/** Two-sided p-value of a t statistic: the normal p of the z whose t quantile it is (bisection on tFromZ). */
export function tTwoSidedP(t: number, df: number): number {
  const target = Math.abs(t);
  if (!Number.isFinite(df)) return twoSidedP(target);
  let lo = 0;
  let hi = target;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (tFromZ(mid, df) < target) lo = mid;
    else hi = mid;
  }
  return twoSidedP((lo + hi) / 2);
}

/** One block of samples that share their circumstances (one second of one run): x of n have the property. */
export interface Block {
  x: number;
  n: number;
}

export interface Clustering {
  /**
   * Variance of the shares with blocks taken into account, over the variance if every sample were independent (≥ 1).
   */
  designEffect: number;
  /** Welch–Satterthwaite degrees of freedom of that variance; Infinity when the blocks say nothing. */
  df: number;
}

/** Blocks needed on each side before their variance is trusted. */
export const MIN_BLOCKS = 3;

/** The share x/n over blocks with its block (cluster-robust) and independent-sample variances. */
export function blockVariance(blocks: readonly Block[]): { share: number; cluster: number; iid: number; k: number } {
  const used = blocks.filter((b) => b.n > 0);
  const n = used.reduce((a, b) => a + b.n, 0);
  if (n === 0) return { share: 0, cluster: 0, iid: 0, k: 0 };
  const share = used.reduce((a, b) => a + b.x, 0) / n;
  const k = used.length;
  const cluster = k < 2 ? 0 : ((k / (k - 1)) * used.reduce((a, b) => a + (b.x - share * b.n) ** 2, 0)) / n ** 2;
  return { share, cluster, iid: (share * (1 - share)) / n, k };
}

/**
 * How much the samples' grouping in seconds inflates the variance of a difference of shares:
 * samples of one second share the machine's state (a stalled event loop, a busy core), so they
 * are not independent, and a test that assumed they were would call run-to-run noise significant.
 */
export function clustering(base: readonly Block[], cand: readonly Block[]): Clustering {
  const a = blockVariance(base);
  const b = blockVariance(cand);
  const none = { designEffect: 1, df: Infinity };
  if (a.k < MIN_BLOCKS || b.k < MIN_BLOCKS || a.iid + b.iid <= 0) return none;
  const designEffect = Math.max(1, (a.cluster + b.cluster) / (a.iid + b.iid));
  const denom = a.cluster ** 2 / (a.k - 1) + b.cluster ** 2 / (b.k - 1);
  return { designEffect, df: denom > 0 ? (a.cluster + b.cluster) ** 2 / denom : Infinity };
}
