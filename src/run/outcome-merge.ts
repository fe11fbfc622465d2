/**
 * How outcomes merge (herd merge over shards): a rule per field, written as
 * records keyed by every field of the type, so a field added without a rule fails to compile and,
 * for data that reaches here with a field no rule knows, fails at run time. Counters add,
 * histograms add exactly, seconds line up (shards share one origin, --start-at), gauges of a shard
 * that has finished carry its last value, as a finished worker's do within one run.
 */
import { HerdError } from '../errors.js';
import { addEncoded, createHistogram, summarize } from '../metrics/histogram.js';
import { ERROR_ORIGINS, type ErrorOrigin, type HarnessEvidence, type WebhookResult } from '../results/types.js';
import {
  addHistograms,
  type CohortOutcome,
  type Outcome,
  type OutcomeAbort,
  type OutcomeBucket,
  type OutageOutcome,
} from './outcome.js';

export type Rule<T> = (parts: readonly T[]) => T;
export type Rules<T> = { readonly [K in keyof T]-?: Rule<T[K]> };

const sum: Rule<number> = (xs) => xs.reduce((a, x) => a + x, 0);
const min: Rule<number> = (xs) => Math.min(...xs);
const max: Rule<number> = (xs) => Math.max(...xs);
const concat = <T>(xs: readonly (readonly T[])[]): T[] => xs.flat() as T[];
/** A value every part shares (checked by the shard check, or constant by construction). */
const same = <T>(xs: readonly T[]): T => xs[0] as T;
const maxOrNull: Rule<number | null> = (xs) => (xs.some((x) => x !== null) ? Math.max(...xs.map((x) => x ?? 0)) : null);
const sumOrNull: Rule<number | null> = (xs) =>
  xs.some((x) => x !== null) ? xs.reduce<number>((a, x) => a + (x ?? 0), 0) : null;
/** The clock offset furthest from zero: the worst shard's. */
const widest: Rule<number | null> = (xs) =>
  xs.reduce<number | null>((w, x) => (x === null ? w : w === null || Math.abs(x) > Math.abs(w) ? x : w), null);

/** Adds records of numbers field by field (every field of such a record is a count). */
function sumFields<T extends object>(xs: readonly T[]): T {
  const out: Record<string, number> = {};
  for (const x of xs) for (const [k, v] of Object.entries(x) as [string, number][]) out[k] = (out[k] ?? 0) + v;
  return out as T;
}

/** Merges records key by key; a key only some parts have is merged over those parts. */
function byKey<V>(rule: Rule<V>): Rule<Record<string, V>> {
  return (xs) => {
    const out: Record<string, V> = {};
    for (const k of new Set(xs.flatMap((x) => Object.keys(x)))) {
      out[k] = rule(xs.filter((x) => Object.hasOwn(x, k)).map((x) => x[k] as V));
    }
    return out;
  };
}

function byIndex<V>(rule: Rule<V>): Rule<V[]> {
  return (xs) => {
    const n = Math.max(0, ...xs.map((x) => x.length));
    return Array.from({ length: n }, (_v, i) => rule(xs.map((x) => x[i]).filter((v): v is V => v !== undefined)));
  };
}

/** Merges objects field by field with a rule per field; a field without a rule is a programming error. */
export function mergeWith<T extends object>(rules: Rules<T>, what: string): Rule<T> {
  return (xs) => {
    for (const x of xs) {
      const missing = Object.keys(x).filter((k) => !Object.hasOwn(rules, k));
      if (missing.length > 0)
        throw new HerdError('E_INTERNAL', `no merge rule for ${what}.${missing.join(`, ${what}.`)}`);
    }
    const out = {} as T;
    for (const k of Object.keys(rules) as (keyof T)[]) out[k] = rules[k](xs.map((x) => x[k]));
    return out;
  };
}

const hist: Rule<string> = (xs) => addHistograms(xs);
const histOrNull: Rule<string | null> = (xs) =>
  xs.some((x) => x !== null) ? addHistograms(xs.filter((x): x is string => x !== null)) : null;

const abort: Rule<OutcomeAbort | null> = (xs) => {
  const present = xs.filter((x): x is OutcomeAbort => x !== null);
  if (present.length === 0) return null;
  return {
    atMs: Math.min(...present.map((a) => a.atMs)),
    // A dead worker is a failure of the run wherever it happened; an interruption alone is not.
    kind: present.some((a) => a.kind === 'worker-failed') ? 'worker-failed' : 'interrupted',
    reason: present.map((a) => a.reason).join('; '),
  };
};

export const COHORT_RULES: Rules<CohortOutcome> = { attempts: sumFields, latency: byKey(hist), errors: byKey(sum) };

export const OUTAGE_RULES: Rules<OutageOutcome> = {
  dropped: sum,
  recovered: sum,
  interrupted: sum,
  recoveryUs: hist,
  attempts: hist,
};

const EVIDENCE_RULES: Rules<HarnessEvidence> = { sustained: concat, loopDelayUs: max, scheduleLagUs: max };

/** A bucket rule, and the value a shard whose timeline has ended contributes to later seconds. */
interface BucketRule<T> {
  merge: Rule<T>;
  ended: (last: T) => T;
}
const counter: BucketRule<number> = { merge: sum, ended: () => 0 };
const gauge: BucketRule<number> = { merge: sum, ended: (last) => last };

export const BUCKET_RULES: { readonly [K in keyof OutcomeBucket]-?: BucketRule<OutcomeBucket[K]> } = {
  t: { merge: same, ended: (last) => last },
  attempts: counter,
  succeeded: counter,
  failed: counter,
  timedOut: counter,
  dropped: counter,
  disconnects: counter,
  reconnects: counter,
  offlineAttempts: counter,
  messagesSent: counter,
  messagesDelivered: counter,
  /** Sum of per-shard peaks, as within a run it is the sum of per-worker peaks. */
  peakHandshaking: counter,
  connected: gauge,
  handshaking: gauge,
  harnessRssBytes: { merge: sumOrNull, ended: (last) => last },
  errorsByOrigin: {
    merge: sumFields,
    ended: () => Object.fromEntries(ERROR_ORIGINS.map((o) => [o, 0])) as Record<ErrorOrigin, number>,
  },
  loopDelayP99Us: { merge: maxOrNull, ended: () => null },
  connectHistogram: { merge: histOrNull, ended: () => null },
};

function mergeTimeline(xs: readonly OutcomeBucket[][]): OutcomeBucket[] {
  const parts = xs.filter((x) => x.length > 0);
  const length = Math.max(0, ...parts.map((x) => x.length));
  const keys = Object.keys(BUCKET_RULES) as (keyof OutcomeBucket)[];
  const out: OutcomeBucket[] = [];
  for (let t = 0; t < length; t++) {
    const bucket = {} as Record<keyof OutcomeBucket, unknown>;
    for (const k of keys) {
      const rule = BUCKET_RULES[k] as BucketRule<unknown>;
      const value = (x: readonly OutcomeBucket[]): unknown => {
        const b = x[t];
        return b !== undefined ? b[k] : rule.ended((x.at(-1) as OutcomeBucket)[k]);
      };
      bucket[k] = rule.merge(parts.map(value));
    }
    bucket.t = t;
    out.push(bucket as OutcomeBucket);
  }
  for (const b of parts.flat()) {
    const missing = Object.keys(b).filter((k) => !Object.hasOwn(BUCKET_RULES, k));
    if (missing.length > 0)
      throw new HerdError('E_INTERNAL', `no merge rule for timeline bucket field ${missing.join(', ')}`);
  }
  return out;
}

/** Shards' sinks add up (each shard's target forwards to its own sink); latency histograms merge exactly. */
export function mergeWebhookResults(parts: readonly (WebhookResult | null | undefined)[]): WebhookResult | null {
  const present = parts.filter((p): p is WebhookResult => p !== null && p !== undefined);
  if (present.length === 0) return null;
  const add = (k: Exclude<keyof WebhookResult, 'latency' | 'lossRate'>): number =>
    present.reduce((a, p) => a + p[k], 0);
  const h = createHistogram();
  for (const p of present) if (p.latency !== null && p.latency.count > 0) addEncoded(h, p.latency.histogram);
  const sent = add('sent');
  const lost = add('lost');
  const out: WebhookResult = {
    sent,
    received: add('received'),
    delivered: add('delivered'),
    lost,
    duplicated: add('duplicated'),
    outOfOrder: add('outOfOrder'),
    tooLate: add('tooLate'),
    foreign: add('foreign'),
    malformed: add('malformed'),
    rejected: add('rejected'),
    lossRate: sent === 0 ? 0 : lost / sent,
    latency: h.totalCount === 0 ? null : summarize(h),
  };
  h.destroy();
  return out;
}

export const OUTCOME_RULES: Rules<Outcome> = {
  startedAtMs: min,
  endedAtMs: max,
  startAtMs: same,
  clockOffsetMs: widest,
  abort,
  planned: sum,
  inFlightAtEnd: sum,
  lostToHarness: sum,
  counts: sumFields,
  latency: byKey(hist),
  errors: byKey(sum),
  timeline: mergeTimeline,
  cohorts: byKey(mergeWith(COHORT_RULES, 'cohorts[]')),
  outages: byIndex(mergeWith(OUTAGE_RULES, 'outages[]')),
  // Joined by time in buildResults (metrics/observed-merge.ts), not by position.
  observed: concat,
  delivery: byKey(sumFields),
  tallies: byKey(sum),
  signals: byKey(sum),
  webhook: mergeWebhookResults,
  workers: concat,
  workerFailures: concat,
  evidence: mergeWith(EVIDENCE_RULES, 'evidence'),
  transient: concat,
};

/** One outcome from the outcomes of the shards of a run, in shard order. */
export const mergeOutcomes: Rule<Outcome> = mergeWith(OUTCOME_RULES, 'outcome');
