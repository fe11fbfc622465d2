/**
 * One side of a comparison (pure): several runs of the same configuration pooled into one value
 * per metric, keeping each run's own value so their spread can serve as the noise estimate.
 * Percentiles come from the runs' histograms added together (never an average of percentiles);
 * shares add their numerators and denominators; extremes take the most extreme run; context
 * counts are shown per run (the mean).
 */
import type { CompareMetricDef, RunMetric } from './metrics.js';
import { mergeDistributions, percentileUs, type Distribution } from './stats.js';

export interface SideMetric extends CompareMetricDef {
  /** The pooled value; null without samples or when never reached (see never). */
  value: number | null;
  /** A recovery share that was never reached (worse than any time). */
  never: boolean;
  /** Each run's own value, in the order the runs were given. */
  perRun: (number | null)[];
  samples: number;
  /** The pooled samples (percentile and extreme kinds). */
  dist?: () => Distribution;
  x?: number;
  n?: number;
}

function pooledDist(ms: readonly RunMetric[]): () => Distribution {
  let d: Distribution | null = null;
  return () => (d ??= mergeDistributions(ms.map((m) => (m.dist ? m.dist() : { valuesUs: [], counts: [], total: 0 }))));
}

function pool(ms: readonly RunMetric[]): SideMetric {
  const first = ms[0] as RunMetric;
  const { value: _v, dist: _d, x: _x, n: _n, samples: _s, ...def } = first;
  const samples = ms.reduce((a, m) => a + m.samples, 0);
  const perRun = ms.map((m) => m.value);
  const neverIn = (m: RunMetric): boolean => m.nullIsNever === true && m.samples > 0 && m.value === null;
  const out: SideMetric = { ...def, value: null, never: false, perRun, samples };
  if (first.dist !== undefined) out.dist = ms.length === 1 ? first.dist : pooledDist(ms);
  switch (first.kind) {
    case 'share': {
      out.x = ms.reduce((a, m) => a + (m.x ?? 0), 0);
      out.n = ms.reduce((a, m) => a + (m.n ?? 0), 0);
      out.value = out.n === 0 ? null : out.x / out.n;
      return out;
    }
    case 'count': {
      out.value = ms.reduce((a, m) => a + (m.value ?? 0), 0) / ms.length;
      return out;
    }
    case 'extreme': {
      out.never = ms.some(neverIn);
      const vs = ms.map((m) => m.value).filter((v): v is number => v !== null);
      out.value = out.never || vs.length === 0 ? null : Math.max(...vs);
      return out;
    }
    case 'percentile': {
      if (ms.length === 1) {
        out.never = neverIn(first);
        out.value = first.value;
        return out;
      }
      const v = samples === 0 || out.dist === undefined ? null : percentileUs(out.dist(), first.percentile ?? 50);
      out.never = first.nullIsNever === true && v === Infinity;
      out.value = v === Infinity ? null : v;
      return out;
    }
  }
}

/** Pools several runs' metrics by key, in the order keys first appear. */
export function poolSide(runs: readonly RunMetric[][]): Map<string, SideMetric> {
  const byKey = new Map<string, RunMetric[]>();
  for (const run of runs) for (const m of run) byKey.set(m.key, [...(byKey.get(m.key) ?? []), m]);
  return new Map([...byKey].map(([k, ms]) => [k, pool(ms)]));
}
