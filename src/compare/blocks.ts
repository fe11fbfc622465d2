/**
 * The runs' seconds as blocks (pure), to measure how much samples of one second move together.
 * Latency: each second's connect.total histogram from the timeline, counted above the pooled
 * percentile. Attempts: each second's failures (failed + timed out) against attempts started.
 * The design effect found on these is applied to every latency series and every attempt share of
 * the same runs: they are the same attempts in the same seconds.
 */
import { PERCENTILES } from './metrics.js';
import type { Results } from './results.js';
import {
  clustering,
  countAbove,
  fromEncoded,
  mergeDistributions,
  percentileUs,
  type Block,
  type Clustering,
  type Distribution,
} from './stats.js';

export interface ComparisonClustering {
  /** By aggregation (p50, p90, p99). */
  latency: Record<string, Clustering>;
  attempts: Clustering;
}

function secondsOf(runs: readonly Results[]): Distribution[] {
  return runs
    .flatMap((r) =>
      r.timeline.buckets.map((b) => (typeof b.connectHistogram === 'string' ? fromEncoded(b.connectHistogram) : null)),
    )
    .filter((d): d is Distribution => d !== null && d.total > 0);
}

/** Failures against all outcomes finishing in the same second (a timeout lands seconds after its start). */
function attemptBlocks(runs: readonly Results[]): Block[] {
  return runs.flatMap((r) =>
    r.timeline.buckets.map((b) => ({ x: b.failed + b.timedOut, n: b.succeeded + b.failed + b.timedOut })),
  );
}

export function comparisonClustering(base: readonly Results[], cand: readonly Results[]): ComparisonClustering {
  const bs = secondsOf(base);
  const cs = secondsOf(cand);
  const pooled = mergeDistributions([...bs, ...cs]);
  const latency: Record<string, Clustering> = {};
  for (const [agg, percentile] of PERCENTILES) {
    const at = percentileUs(pooled, percentile);
    if (at === null) continue;
    const blocks = (ds: Distribution[]): Block[] => ds.map((d) => ({ x: countAbove(d, at), n: d.total }));
    latency[agg] = clustering(blocks(bs), blocks(cs));
  }
  return { latency, attempts: clustering(attemptBlocks(base), attemptBlocks(cand)) };
}
