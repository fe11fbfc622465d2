/**
 * herd thresholds → k6 threshold expressions (pure). herd's grammar is k6's, so the work is
 * naming the k6 metric that records the same quantity and converting the bound to k6's unit
 * (milliseconds for time Trends).
 */
import type { Aggregation, Threshold } from '../scenario/threshold-parse.js';

export type K6MetricType = 'Trend' | 'Rate' | 'Counter';

export interface K6Metric {
  /** Name in k6 output and thresholds. */
  name: string;
  type: K6MetricType;
  /** A metric the script defines (false: k6's own, e.g. dropped_iterations). */
  custom: boolean;
  /** How the script measures it, for the header and docs/k6.md. */
  how: string;
}

/**
 * Every herd metric the script can measure. herd metrics missing here (per-phase timings,
 * errors by origin) have no k6 counterpart: thresholds on them are listed as not expressible.
 */
export const K6_METRICS: Readonly<Record<string, K6Metric>> = {
  'connect.total': {
    name: 'herd_connect_total',
    type: 'Trend',
    custom: true,
    how: "herd's intended start → connected (ms)",
  },
  'connect.service': {
    name: 'herd_connect_service',
    type: 'Trend',
    custom: true,
    how: 'connect call → connected (ms)',
  },
  'connect.scheduleLag': {
    name: 'herd_connect_schedule_lag',
    type: 'Trend',
    custom: true,
    how: "herd's intended start → connect call (ms)",
  },
  'connect.failed': {
    name: 'herd_connect_failed',
    type: 'Trend',
    custom: true,
    how: "herd's intended start → failure, failed attempts only (ms)",
  },
  'errors.rate': { name: 'herd_errors', type: 'Rate', custom: true, how: 'failed or timed out / started attempts' },
  'connect.successRate': {
    name: 'herd_connect_success',
    type: 'Rate',
    custom: true,
    how: 'succeeded / started attempts',
  },
  'attempts.succeeded': {
    name: 'herd_attempts_succeeded',
    type: 'Counter',
    custom: true,
    how: 'attempts that connected',
  },
  'attempts.failed': {
    name: 'herd_attempts_failed',
    type: 'Counter',
    custom: true,
    how: 'attempts that failed before the connect timeout',
  },
  'attempts.timedOut': {
    name: 'herd_attempts_timed_out',
    type: 'Counter',
    custom: true,
    how: 'attempts that took the whole connect timeout',
  },
  'attempts.dropped': {
    name: 'dropped_iterations',
    type: 'Counter',
    custom: false,
    how: "k6's own count of iterations it could not start",
  },
};

/** Why a herd metric has no k6 counterpart. */
const UNMEASURABLE: Readonly<Record<string, string>> = {
  'phase.tcpConnect': 'k6 exposes no per-phase timing of an MQTT or WebSocket connect to scripts',
  'phase.mqttConnack': 'xk6-mqtt connects in one blocking call; CONNECT→CONNACK is not timed separately',
  'errors.local': "k6 and xk6-mqtt report errors as text, without herd's origin classification",
  'errors.protocol': "k6 and xk6-mqtt report errors as text, without herd's origin classification",
  'errors.network': "k6 and xk6-mqtt report errors as text, without herd's origin classification",
};

/** k6 fails a run with dropped iterations only if told to; herd never drops silently. */
export const ALWAYS_THRESHOLDS: Readonly<Record<string, readonly string[]>> = { dropped_iterations: ['count==0'] };

export interface ThresholdMapping {
  /** k6 metric name → expressions, in first-seen order. */
  thresholds: Record<string, string[]>;
  notes: string[];
}

export function mapThresholds(list: readonly Threshold[]): ThresholdMapping {
  const thresholds: Record<string, string[]> = {};
  const notes: string[] = [];
  const add = (metric: string, expr: string): void => {
    const exprs = (thresholds[metric] ??= []);
    if (!exprs.includes(expr)) exprs.push(expr);
  };
  for (const t of list) {
    const r = mapThreshold(t);
    // A threshold that cannot be written is a gap (k6-gaps.ts), listed by its scenario field.
    if (typeof r !== 'string') add(r.metric, r.expression);
  }
  for (const [metric, exprs] of Object.entries(ALWAYS_THRESHOLDS)) for (const e of exprs) add(metric, e);
  if (list.some((t) => K6_METRICS[t.metric]?.type !== 'Counter' && typeof mapThreshold(t) !== 'string')) {
    notes.push('herd fails a threshold whose metric got no samples; k6 may pass it (grafana/k6#4283)');
  }
  if (list.some((t) => t.metric === 'connect.successRate')) {
    notes.push(
      "connect.successRate: k6's denominator is started attempts, herd's is planned; dropped_iterations covers the rest",
    );
  }
  return { thresholds, notes };
}

/** One threshold → a k6 expression, or why it cannot be written. */
export function mapThreshold(t: Threshold): { metric: string; expression: string } | string {
  const m = K6_METRICS[t.metric];
  if (!m) return UNMEASURABLE[t.metric] ?? "herd's exporter does not map this metric yet";
  const agg = k6Aggregation(t.aggregation, m.type);
  if (agg === null) return `k6 ${m.type} metrics have no "${t.aggregation.kind}" aggregation`;
  const bound = m.type === 'Trend' ? t.bound / 1000 : t.bound;
  return { metric: m.name, expression: `${agg}${t.op}${formatNumber(bound)}` };
}

function k6Aggregation(a: Aggregation, type: K6MetricType): string | null {
  switch (type) {
    case 'Trend':
      if (a.kind === 'percentile') return `p(${formatNumber(a.p)})`;
      return a.kind === 'avg' || a.kind === 'min' || a.kind === 'max' || a.kind === 'med' ? a.kind : null;
    case 'Rate':
      return a.kind === 'value' ? 'rate' : null;
    case 'Counter':
      return a.kind === 'value' || a.kind === 'count' ? 'count' : null;
  }
}

/** Plain decimal, never exponent notation (k6's threshold parser reads decimals). */
function formatNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return n.toFixed(9).replace(/0+$/, '').replace(/\.$/, '');
}
