/** Threshold evaluation on the final merged results (pure). A threshold with no samples fails. */
import { decodeHistogram } from '../metrics/histogram.js';
import type { Results, ThresholdResult } from '../results/types.js';
import { formatUs } from '../util/duration.js';
import { METRICS } from '../scenario/threshold-metrics.js';
import type { Op, Threshold } from '../scenario/threshold-parse.js';

export function compareOp(observed: number, op: Op, bound: number): boolean {
  switch (op) {
    case '<':
      return observed < bound;
    case '<=':
      return observed <= bound;
    case '>':
      return observed > bound;
    case '>=':
      return observed >= bound;
    case '==':
      return observed === bound;
    case '!=':
      return observed !== bound;
  }
}

/** The observed value a threshold compares, in its base unit; null when there are no samples. */
export function observe(t: Threshold, r: Omit<Results, 'thresholds'>): number | null {
  const def = METRICS[t.metric];
  if (!def) return null;
  if (def.kind === 'duration') {
    const s = r.latency[def.latencyKey ?? t.metric];
    if (!s || s.count === 0) return null;
    const a = t.aggregation;
    switch (a.kind) {
      case 'count':
        return s.count;
      case 'min':
        return s.minUs;
      case 'max':
        return s.maxUs;
      case 'avg':
        return s.meanUs;
      case 'med':
        return s.p50Us;
      case 'value':
        return null;
      case 'percentile': {
        const h = decodeHistogram(s.histogram);
        const v = h.getValueAtPercentile(a.p);
        h.destroy();
        return v;
      }
    }
  }
  const v = def.read?.(r as Results);
  return v === undefined || v === null ? null : v.value;
}

export function evaluateThresholds(list: readonly Threshold[], r: Omit<Results, 'thresholds'>): ThresholdResult[] {
  return list.map((t) => {
    const observed = observe(t, r);
    const passed = observed !== null && compareOp(observed, t.op, t.bound);
    const missing = observed === null ? METRICS[t.metric]?.missing?.(r as Results) : undefined;
    return {
      metric: t.metric,
      expression: t.expression,
      passed,
      observed,
      observedText: missing ?? formatObserved(t, observed),
    };
  });
}

function formatObserved(t: Threshold, v: number | null): string {
  if (v === null) return 'no samples';
  const kind = METRICS[t.metric]?.kind;
  if ((kind === 'duration' && t.aggregation.kind !== 'count') || kind === 'time') return formatUs(v);
  if (kind === 'rate') return `${(v * 100).toFixed(v < 0.01 && v > 0 ? 3 : 2)}%`;
  return String(v);
}
