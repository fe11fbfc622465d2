/**
 * k6-style threshold grammar over herd's metrics (pure).
 *
 *   connect.total: "p(99) < 2s"       histogram metric + aggregation
 *   errors.rate:   "< 1%"             metric with its own value; the aggregation is implied
 *   attempts.failed: "== 0"
 *
 * Parsed and validated before a run: an unknown metric or aggregation is bad input (exit 2).
 */
import { METRICS, type MetricKind, type MetricDef } from './threshold-metrics.js';
import { didYouMean } from '../util/suggest.js';

export type Op = '<' | '<=' | '>' | '>=' | '==' | '!=';
export type Aggregation =
  | { kind: 'percentile'; p: number }
  | { kind: 'avg' | 'min' | 'max' | 'med' | 'count' | 'value' };

export interface Threshold {
  metric: string;
  expression: string;
  aggregation: Aggregation;
  op: Op;
  /** Bound in the metric's base unit: µs for durations, a fraction for rates, a plain number otherwise. */
  bound: number;
}

const EXPR_RE = /^\s*(?:(p\(\s*\d+(?:\.\d+)?\s*\)|avg|min|max|med|count|value)\s*)?(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*(us|µs|ms|s|m|h|%)?\s*$/;
const UNIT_US: Record<string, number> = { us: 1, µs: 1, ms: 1e3, s: 1e6, m: 6e7, h: 3.6e9 };

export interface ParseOutcome {
  thresholds: Threshold[];
  problems: string[];
}

/** Parses every threshold of a scenario, collecting all problems with their paths. */
export function parseThresholds(spec: Record<string, readonly string[]>): ParseOutcome {
  const thresholds: Threshold[] = [];
  const problems: string[] = [];
  for (const [metric, expressions] of Object.entries(spec)) {
    const def = Object.hasOwn(METRICS, metric) ? METRICS[metric] : undefined;
    if (!def) {
      problems.push(`thresholds.${metric}: unknown metric${didYouMean(metric, Object.keys(METRICS)) || ' (docs/metrics.md lists the metrics)'}`);
      continue;
    }
    expressions.forEach((expression, i) => {
      const r = parseOne(metric, def, expression);
      if (typeof r === 'string') problems.push(`thresholds.${metric}[${i}]: ${r}`);
      else thresholds.push(r);
    });
  }
  return { thresholds, problems };
}

function parseOne(metric: string, def: MetricDef, expression: string): Threshold | string {
  const m = EXPR_RE.exec(expression);
  if (!m) return `cannot read ${JSON.stringify(expression)}; expected e.g. ${example(def.kind)}`;
  const [, aggText, opText, numText, unit] = m;
  const aggregation = parseAggregation(aggText, def.kind);
  if (typeof aggregation === 'string') return aggregation;
  const n = Number(numText);
  if (!Number.isFinite(n)) return `${JSON.stringify(expression)}: the number is too large`;
  let bound: number;
  const measuresTime = (def.kind === 'duration' && aggregation.kind !== 'count') || def.kind === 'time';
  if (measuresTime) {
    if (unit === undefined || unit === '%') return `${JSON.stringify(expression)}: a duration needs a unit (us, ms, s, m, h), e.g. ${example(def.kind)}`;
    bound = n * (UNIT_US[unit] ?? NaN);
  } else if (def.kind === 'rate') {
    if (unit === '%') bound = n / 100;
    else if (unit === undefined) bound = n;
    else return `${JSON.stringify(expression)}: a rate takes % or a fraction, not "${unit}"`;
  } else {
    if (unit !== undefined) return `${JSON.stringify(expression)}: ${metric} is a plain number; remove "${unit}"`;
    bound = n;
  }
  return { metric, expression, aggregation, op: opText as Op, bound };
}

function parseAggregation(text: string | undefined, kind: MetricKind): Aggregation | string {
  if (text === undefined) {
    if (kind === 'duration') return 'name an aggregation for a latency metric: p(99), avg, min, max, med or count';
    return { kind: 'value' };
  }
  if (text.startsWith('p(')) {
    if (kind !== 'duration') return `p(…) applies only to latency metrics`;
    const p = Number(text.slice(2, -1).trim());
    if (!(p >= 0 && p <= 100)) return `percentile ${p} is outside 0–100`;
    return { kind: 'percentile', p };
  }
  if (text === 'value') return { kind: 'value' };
  if (kind !== 'duration') return `"${text}" applies only to latency metrics; write the comparison alone, e.g. ${example(kind)}`;
  return { kind: text as 'avg' | 'min' | 'max' | 'med' | 'count' };
}

function example(kind: MetricKind): string {
  switch (kind) {
    case 'duration':
      return '"p(99) < 2s"';
    case 'time':
      return '"< 90s"';
    case 'rate':
      return '"< 1%"';
    case 'count':
      return '"== 0"';
  }
}
