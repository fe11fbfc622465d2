/**
 * What an entry of the metric catalogue is (scenario/threshold-metrics.ts, scenario/outcome-metrics.ts),
 * and the count builder both use.
 */
import type { Results } from '../results/types.js';

/** duration: a latency distribution (needs an aggregation); time: one duration value; rate; count. */
export type MetricKind = 'duration' | 'time' | 'rate' | 'count';

/** How `herd compare` judges the metric of this name: better when lower, higher, or not judged. */
export interface CompareFacts {
  /** The group it is shown under and that a --tolerance may name, e.g. connect.total, errors. */
  group: string;
  direction: 'lower' | 'higher' | 'neutral';
  /** What compare's number is, with its denominator for shares (a latency's: per percentile). */
  definition: string;
  /** Why a neutral metric is not judged. */
  notJudged?: string;
}

export interface MetricDef {
  kind: MetricKind;
  description: string;
  /** Latency metrics name a key in results.latency. */
  latencyKey?: string;
  /** Rate and count metrics: the value and, for rates, the denominator (null = no samples). */
  read?: (r: Results) => { value: number; samples: number } | null;
  /** Rates: what the share is of, as `herd validate` echoes it ("of attempts started"). */
  denominator?: string;
  /** Why `read` gave null, when "no samples" would mislead. */
  missing?: (r: Results) => string;
  /** Absent: compare does not show it under this name. */
  compare?: CompareFacts;
}

export const count = (description: string, read: (r: Results) => number): MetricDef => ({
  kind: 'count',
  description,
  read: (r) => ({ value: read(r), samples: r.attempts.planned }),
});
