/**
 * The metrics `herd compare` looks at, read from one results file (pure). Each says how it is
 * judged (its kind), which way is better, and what it means, with its denominator:
 * - percentile: a latency or recovery percentile, judged with the quantile test on its histogram;
 * - extreme: a single sample (max, all recovered): shown, judged only with --judge-max;
 * - share: a count over a stated denominator, judged with the two-proportion z-test;
 * - count: context (planned, started, …), shown per run, never judged — the shares are.
 * Deliberate shedding (MQTT 5 0x89/0x9F, HTTP 429/503, WebSocket 1013) is its own category and
 * never counts as an error, so a target that sheds is never called worse — or better — on errors.
 * What each metric means and which way is better is in the metric catalogue
 * (scenario/threshold-metrics.ts); this file computes the values.
 */
import { isLoadShedding } from '../results/shedding.js';
import type { CompareFacts } from '../scenario/metric-def.js';
import { compareFacts } from '../scenario/threshold-metrics.js';
import { ERROR_ORIGINS, type Results } from './results.js';
import { fromEncoded, type Distribution } from './stats.js';

export type Direction = CompareFacts['direction'];
export type CompareUnit = 'us' | 'ratio' | 'count';
export type CompareKind = 'percentile' | 'extreme' | 'share' | 'count';

export interface CompareMetricDef {
  /** e.g. connect.total.p99, errors.rate, attempts.failed */
  key: string;
  /** The group it is shown under and that a --tolerance may name, e.g. connect.total, errors. */
  group: string;
  unit: CompareUnit;
  direction: Direction;
  kind: CompareKind;
  /** What the number is, with its denominator for shares. */
  definition: string;
  /** percentile kind: which one (50, 90, 99). */
  percentile?: number;
  /** A recovery time: null means the share of devices never came back, worse than any time. */
  nullIsNever?: boolean;
  /** Why a neutral metric is not judged. */
  notJudged?: string;
}

export interface RunMetric extends CompareMetricDef {
  /** As this run reports it; null without samples (or, with nullIsNever, never reached). */
  value: number | null;
  /** How many samples stand behind it (latency: timed events; share: the denominator; recovery: devices hit). */
  samples: number;
  /** percentile and extreme kinds: the samples (recovery: devices that never came back at +Infinity). */
  dist?: () => Distribution;
  /** share kind: numerator and denominator. */
  x?: number;
  n?: number;
}

export const PERCENTILES = [
  ['p50', 50, 'p50Us'],
  ['p90', 90, 'p90Us'],
  ['p99', 99, 'p99Us'],
] as const;

/** The catalogue's facts for a metric compare shows; a key missing there is a programming error. */
function facts(key: string): CompareFacts {
  const f = compareFacts(key);
  if (f === undefined)
    throw new Error(`compare: ${key} is not in the metric catalogue (scenario/threshold-metrics.ts)`);
  return f;
}

const judged = (f: CompareFacts): { notJudged?: string } =>
  f.notJudged === undefined ? {} : { notJudged: f.notJudged };

/** Decodes a histogram once, on first use: most rows never need theirs. */
function lazy(encoded: string, extraNever = 0): () => Distribution {
  let d: Distribution | null = null;
  return () => {
    if (d === null) {
      const decoded = fromEncoded(encoded);
      d =
        extraNever > 0
          ? {
              valuesUs: [...decoded.valuesUs, Infinity],
              counts: [...decoded.counts, extraNever],
              total: decoded.total + extraNever,
            }
          : decoded;
    }
    return d;
  };
}

/**
 * Attempts refused by deliberate shedding, and errors of each origin without it. From the embedded
 * target CONNACK 3 is shedding too: the only one it sends is its admission control refusing a
 * 3.1.1 device (results/shedding.ts).
 */
export function errorSplit(r: Results): { shedAttempts: number; shedSessions: number; byOrigin: Map<string, number> } {
  let shedAttempts = 0;
  let shedSessions = 0;
  const byOrigin = new Map<string, number>(ERROR_ORIGINS.map((o) => [o, 0]));
  for (const e of r.errors) {
    if (isLoadShedding(e, r.run.embeddedTarget)) {
      if (e.phase === 'held') shedSessions += e.count;
      else shedAttempts += e.count;
    } else byOrigin.set(e.origin, (byOrigin.get(e.origin) ?? 0) + e.count);
  }
  return { shedAttempts, shedSessions, byOrigin };
}

function latencyMetrics(r: Results): RunMetric[] {
  const out: RunMetric[] = [];
  for (const key of Object.keys(r.latency).sort()) {
    const s = r.latency[key];
    const has = s !== undefined && s.count > 0;
    const dist = lazy(has ? s.histogram : '');
    // A latency series a newer herd records but the catalogue does not know: judged like the rest.
    const f: CompareFacts = compareFacts(key) ?? { group: key, direction: 'lower', definition: key };
    const samples = has ? s.count : 0;
    const common = { group: f.group, unit: 'us' as const, direction: f.direction, ...judged(f), dist, samples };
    for (const [agg, percentile, field] of PERCENTILES) {
      out.push({
        ...common,
        key: `${key}.${agg}`,
        kind: 'percentile',
        percentile,
        definition: `${agg} of ${key}`,
        value: has ? s[field] : null,
      });
    }
    out.push({
      ...common,
      key: `${key}.max`,
      kind: 'extreme',
      definition: `slowest single ${key}`,
      value: has ? s.maxUs : null,
    });
  }
  return out;
}

function share(key: string, x: number, n: number): RunMetric {
  const f = facts(key);
  const value = n === 0 ? null : x / n;
  const { group, direction, definition } = f;
  return { key, group, unit: 'ratio', direction, kind: 'share', definition, value, x, n, samples: n, ...judged(f) };
}

function count(key: string, value: number): RunMetric {
  const f = facts(key);
  const { group, direction, definition } = f;
  return { key, group, unit: 'count', direction, kind: 'count', definition, value, samples: 1, ...judged(f) };
}

/** Every comparable metric of a run, in a stable order. */
export function compareMetrics(r: Results): RunMetric[] {
  const a = r.attempts;
  const { shedAttempts, shedSessions, byOrigin } = errorSplit(r);
  const out = latencyMetrics(r);
  out.push(share('connect.successRate', a.succeeded, a.started));
  out.push(share('errors.rate', a.failed + a.timedOut - shedAttempts, a.started));
  for (const o of ERROR_ORIGINS) out.push(share(`errors.${o}`, byOrigin.get(o) ?? 0, a.started));
  out.push(share('attempts.inFlightAtEnd', a.inFlightAtEnd, a.started));
  out.push(share('attempts.gaveUp', a.gaveUp ?? 0, a.planned));
  out.push(share('shed.rate', shedAttempts, a.started));
  out.push(share('shed.sessions', shedSessions, a.succeeded));
  out.push(share('attempts.dropped', a.dropped, a.started + a.dropped));
  if (r.delivery && r.delivery.sent > 0) out.push(share('delivery.lossRate', r.delivery.lost, r.delivery.sent));
  // Who lost them, over everything published (files before issue 24 have no split: not shown).
  const d = r.delivery;
  if (d && d.published > 0) {
    for (const k of ['lostByCloud', 'neverAcknowledged', 'droppedByDevice'] as const)
      out.push(share(`delivery.${k}`, d[k], d.published));
    // Duplicates the cloud made up weigh against it; the devices' own resends are context.
    out.push(share('delivery.duplicatedByCloud', d.duplicatedByCloud, d.published));
  }
  out.push(count('attempts.planned', a.planned));
  out.push(count('attempts.started', a.started));
  out.push(count('attempts.succeeded', a.succeeded));
  out.push(count('attempts.failed', a.failed));
  out.push(count('attempts.timedOut', a.timedOut));
  out.push(count('attempts.reconnects', a.reconnects ?? 0));
  out.push(count('attempts.offline', a.offline ?? 0));
  for (const o of r.outages ?? []) {
    const group = `recovery.${o.name}`;
    const dist = lazy(o.recoveryHistogram, o.dropped - o.recovered);
    const common = {
      group,
      unit: 'us' as const,
      direction: 'lower' as const,
      nullIsNever: true,
      dist,
      samples: o.dropped,
    };
    const has = o.dropped > 0;
    for (const [agg, percentile, field] of PERCENTILES) {
      out.push({
        ...common,
        key: `${group}.${agg}`,
        kind: 'percentile',
        percentile,
        definition: `time from the end of ${o.name} until ${percentile}% of the ${o.dropped} devices it hit were back`,
        value: has ? o.recovery[field] : null,
      });
    }
    out.push({
      ...common,
      key: `${group}.p100`,
      kind: 'extreme',
      definition: `time until all devices ${o.name} hit were back`,
      value: has ? o.recovery.p100Us : null,
    });
  }
  return out;
}
