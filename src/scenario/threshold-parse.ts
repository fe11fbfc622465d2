/**
 * k6-style threshold grammar over herd's metrics (pure).
 *
 *   connect.total: "p(99) < 2s"       histogram metric + aggregation
 *   errors.rate:   "< 1%"             metric with its own value; the aggregation is implied
 *   attempts.failed: "== 0"
 *
 * Parsed and validated before a run: an unknown metric or aggregation is bad input (exit 2).
 */
import type { MetricDef, MetricKind } from './metric-def.js';
import { METRICS } from './threshold-metrics.js';
import { didYouMean } from '../util/suggest.js';

export type Op = '<' | '<=' | '>' | '>=' | '==' | '!=';
export type Aggregation =
  { kind: 'percentile'; p: number } | { kind: 'avg' | 'min' | 'max' | 'med' | 'count' | 'value' };

export interface Threshold {
  metric: string;
  expression: string;
  aggregation: Aggregation;
  op: Op;
  /** Bound in the metric's base unit: µs for durations, a fraction for rates, a plain number otherwise. */
  bound: number;
}

/** [aggregation] operator number [unit]: "p(99) < 2s", "< 1%", "count >= 10". */
const EXPR_RE = new RegExp(
  String.raw`^\s*(?:(p\(\s*\d+(?:\.\d+)?\s*\)|avg|min|max|med|count|value)\s*)?` +
    String.raw`(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*(us|µs|ms|s|m|h|%)?\s*$`,
);
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
      problems.push(
        `thresholds.${metric}: unknown metric${didYouMean(metric, Object.keys(METRICS)) || ' (docs/metrics.md lists the metrics)'}`,
      );
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
    if (unit === undefined || unit === '%')
      return `${JSON.stringify(expression)}: a duration needs a unit (us, ms, s, m, h), e.g. ${example(def.kind)}`;
    bound = n * (UNIT_US[unit] ?? NaN);
  } else if (def.kind === 'rate') {
    const r = rateBound(expression, n, unit);
    if (typeof r === 'string') return r;
    bound = r;
  } else {
    if (unit !== undefined) return `${JSON.stringify(expression)}: ${metric} is a plain number; remove "${unit}"`;
    bound = n;
  }
  return { metric, expression, aggregation, op: opText as Op, bound };
}

/**
 * A rate is a share: "5%" or the fraction 0.05. A bare 5 would be 500% and "< 1" is 100% (a k6 user
 * means 1%), thresholds that can never fail, so a bare number of 1 or more is refused with both spellings.
 */
function rateBound(expression: string, n: number, unit: string | undefined): number | string {
  const quoted = JSON.stringify(expression);
  if (unit === '%') {
    if (n < 0 || n > 100) return `${quoted}: a rate is a share between 0% and 100%`;
    return n / 100;
  }
  if (unit !== undefined) return `${quoted}: a rate takes % or a fraction, not "${unit}"`;
  if (n >= 1) {
    const all = n === 1 ? ' (or 100% for all)' : '';
    return `${quoted}: a rate is a share: ${n} would be ${exact(n * 100)}%; write ${n}% or ${exact(n / 100)}${all}`;
  }
  if (n < 0) return `${quoted}: a rate is a share between 0 and 1 (or 0% and 100%)`;
  return n;
}

/** A number without binary noise: 0.07 * 100 prints 7, not 7.000000000000001. */
function exact(n: number): string {
  return String(Number(n.toPrecision(12)));
}

const AGG_TEXT = (a: Aggregation): string =>
  a.kind === 'percentile' ? `p(${a.p}) ` : a.kind === 'value' ? '' : `${a.kind} `;
const TIME_UNITS: [string, number][] = [
  ['h', 3.6e9],
  ['m', 6e7],
  ['s', 1e6],
  ['ms', 1e3],
];

/**
 * How a threshold was read, in the metric's unit, as `herd validate` echoes it:
 * "errors.rate < 1% of attempts started", "connect.total p(99) < 2s", "attempts.failed == 0".
 */
export function describeThreshold(t: Threshold): string {
  const def = Object.hasOwn(METRICS, t.metric) ? METRICS[t.metric] : undefined;
  const kind = def?.kind ?? 'count';
  const timed = (kind === 'duration' && t.aggregation.kind !== 'count') || kind === 'time';
  let bound: string;
  if (timed) bound = durationText(t.bound);
  else if (kind === 'rate') bound = `${exact(t.bound * 100)}%${def?.denominator ? ` of ${def.denominator}` : ''}`;
  else bound = exact(t.bound);
  return `${t.metric} ${AGG_TEXT(t.aggregation)}${t.op} ${bound}`;
}

/** The largest unit the bound is at least one of, exactly (1500ms stays 1.5s, 250µs stays 250µs). */
function durationText(us: number): string {
  for (const [unit, size] of TIME_UNITS) if (Math.abs(us) >= size) return `${exact(us / size)}${unit}`;
  return `${exact(us)}µs`;
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
  if (kind !== 'duration')
    return `"${text}" applies only to latency metrics; write the comparison alone, e.g. ${example(kind)}`;
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
