/**
 * The metrics `herd compare` looks at, read from one results file (pure). Each has a direction:
 * lower is better for latency and errors, higher for successes; `neutral` ones are shown but
 * never make a regression (time to failure: failing faster is neither better nor worse).
 */
import { ERROR_ORIGINS, type Results } from '../results/types.js';

export type Direction = 'lower' | 'higher' | 'neutral';
export type CompareUnit = 'us' | 'ratio' | 'count';

export interface MetricValue {
  /** e.g. connect.total.p99, errors.rate, attempts.failed */
  key: string;
  /** The group it is shown under, e.g. connect.total, errors, attempts. */
  group: string;
  unit: CompareUnit;
  direction: Direction;
  /** null when the run has no samples for it (or, with nullIsNever, the event never happened). */
  value: number | null;
  /** null means "never reached" (worse than any number), e.g. a recovery time. */
  nullIsNever?: boolean;
}

export const LATENCY_AGGREGATIONS = [
  ['p50', 'p50Us'],
  ['p90', 'p90Us'],
  ['p99', 'p99Us'],
  ['max', 'maxUs'],
] as const;

const NEUTRAL_LATENCY = new Set(['connect.failed']);

const COUNTERS: readonly [key: string, direction: Direction, read: (r: Results) => number][] = [
  ['attempts.planned', 'neutral', (r) => r.attempts.planned],
  ['attempts.succeeded', 'higher', (r) => r.attempts.succeeded],
  ['attempts.failed', 'lower', (r) => r.attempts.failed],
  ['attempts.timedOut', 'lower', (r) => r.attempts.timedOut],
  ['attempts.dropped', 'lower', (r) => r.attempts.dropped],
  ['attempts.inFlightAtEnd', 'lower', (r) => r.attempts.inFlightAtEnd],
  // More retries are a symptom, not a goal or a failure in themselves: shown, not judged.
  ['attempts.reconnects', 'neutral', (r) => r.attempts.reconnects ?? 0],
  ['attempts.gaveUp', 'lower', (r) => r.attempts.gaveUp ?? 0],
];

const RECOVERY = [
  ['p50', 'p50Us'],
  ['p90', 'p90Us'],
  ['p99', 'p99Us'],
  ['p100', 'p100Us'],
] as const;

/** Every comparable metric of a run, in a stable order. */
export function compareMetrics(r: Results): MetricValue[] {
  const out: MetricValue[] = [];
  for (const key of Object.keys(r.latency).sort()) {
    const s = r.latency[key];
    for (const [agg, field] of LATENCY_AGGREGATIONS) {
      out.push({
        key: `${key}.${agg}`,
        group: key,
        unit: 'us',
        direction: NEUTRAL_LATENCY.has(key) ? 'neutral' : 'lower',
        value: s && s.count > 0 ? s[field] : null,
      });
    }
  }
  const a = r.attempts;
  out.push({ key: 'errors.rate', group: 'errors', unit: 'ratio', direction: 'lower', value: a.started === 0 ? null : (a.failed + a.timedOut) / a.started });
  out.push({ key: 'connect.successRate', group: 'errors', unit: 'ratio', direction: 'higher', value: a.planned === 0 ? null : a.succeeded / a.planned });
  for (const o of ERROR_ORIGINS) {
    out.push({
      key: `errors.${o}`,
      group: 'errors',
      unit: 'count',
      direction: 'lower',
      value: r.errors.filter((e) => e.origin === o).reduce((sum, e) => sum + e.count, 0),
    });
  }
  for (const [key, direction, read] of COUNTERS) out.push({ key, group: 'attempts', unit: 'count', direction, value: read(r) });
  // Recovery after each outage (null = the share was never reconnected: no number to compare).
  for (const o of r.outages ?? []) {
    for (const [agg, field] of RECOVERY) {
      out.push({ key: `recovery.${o.name}.${agg}`, group: `recovery.${o.name}`, unit: 'us', direction: 'lower', value: o.recovery[field], nullIsNever: true });
    }
  }
  return out;
}
