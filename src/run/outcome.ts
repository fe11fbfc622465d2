/**
 * What a run measured, as plain mergeable data: counters, encoded histograms, per-second buckets,
 * outage and downlink tallies. A run produces one (outcomeOfRun); shards' results files give one each
 * (outcome-of-results.ts) and merge into one (outcome-merge.ts); buildResults turns any of them into
 * results.json, so a merged run and an unsharded one are built by the same code.
 */
import type {
  AbortKind,
  DeliveryCounts,
  ErrorCount,
  HarnessEvidence,
  TimelineBucket,
  WebhookResult,
  WorkerHealth,
} from '../results/types.js';
import type { ResolvedScenario } from '../results/resolved-scenario.js';
import type { RunOutcome } from '../engine/coordinator.js';
import { addEncoded, createHistogram, decodeHistogram, encodeHistogram, type Histogram } from '../metrics/histogram.js';
import { findEvidence } from '../metrics/saturation.js';

/** Counters that add up across workers and shards. */
export interface OutcomeCounts {
  reconnects: number;
  offline: number;
  gaveUp: number;
  started: number;
  succeeded: number;
  failed: number;
  timedOut: number;
  dropped: number;
  disconnects: number;
  outageDrops: number;
  sessionPresent: number;
  messagesRefused: number;
  requestsSent: number;
  /** Never more than requestsSent (answers to requests from before the run are not counted). */
  requestsAnswered: number;
}

/** One second of the timeline before its percentiles are read off connectHistogram. */
export type OutcomeBucket = Omit<TimelineBucket, 'connectP50Us' | 'connectP90Us' | 'connectP99Us' | 'connectMaxUs'>;

export interface CohortOutcome {
  attempts: { started: number; succeeded: number; failed: number; timedOut: number };
  /** Encoded histograms by latency key (only the keys that had samples). */
  latency: Record<string, string>;
  /** "origin|phase|code" → count. */
  errors: Record<string, number>;
}

export interface OutageOutcome {
  dropped: number;
  recovered: number;
  /** Hit devices a later outage hit again before they were back. */
  interrupted: number;
  /** Encoded histograms: µs to recover, and real attempts per recovered device. */
  recoveryUs: string;
  attempts: string;
}

/**
 * One worker's or shard's part of an outage herd observed but did not cause (joined by time in
 * buildResults: metrics/observed-merge.ts). Shards' times are on the agreed start time.
 */
export interface ObservedOutcome {
  atUs: number;
  acceptedUs: number | null;
  dropped: number;
  recovered: number;
  /** Encoded histograms: µs from this part's own first accept, and real attempts per recovered device. */
  recoveryUs: string;
  attempts: string;
}

export interface OutcomeAbort {
  atMs: number;
  kind: AbortKind;
  reason: string;
}

export interface Outcome {
  startedAtMs: number;
  endedAtMs: number;
  /** The agreed start time (--start-at), and how far the actual origin was from it. */
  startAtMs: number | null;
  clockOffsetMs: number | null;
  abort: OutcomeAbort | null;
  planned: number;
  inFlightAtEnd: number;
  lostToHarness: number;
  counts: OutcomeCounts;
  /** Encoded histograms by latency key. */
  latency: Record<string, string>;
  /** "origin|phase|code" → count. */
  errors: Record<string, number>;
  /** One bucket per second from 0, without gaps. */
  timeline: OutcomeBucket[];
  cohorts: Record<string, CohortOutcome>;
  /** By outage window, in scenario order. */
  outages: OutageOutcome[];
  /** Parts of observed outages, as each worker (or shard) saw them. */
  observed: ObservedOutcome[];
  /** End-to-end delivery counts per cohort publishing with echo (empty when none does). */
  delivery: Record<string, DeliveryCounts>;
  /** Downlink and session-replay counts by "name|cohort". */
  tallies: Record<string, number>;
  /** MQTT 5 server signals by key. */
  signals: Record<string, number>;
  webhook: WebhookResult | null;
  workers: WorkerHealth[];
  workerFailures: string[];
  evidence: HarnessEvidence;
  /** Health excursions too short to count as evidence. */
  transient: string[];
}

export function errorKeyOf(e: Pick<ErrorCount, 'origin' | 'phase' | 'code'>): string {
  return `${e.origin}|${e.phase}|${e.code}`;
}

function record(m: ReadonlyMap<string, number>): Record<string, number> {
  return Object.fromEntries(m);
}

/** The outcome of a run as the coordinator left it (the webhook sink counts separately). */
export function outcomeOfRun(run: RunOutcome, scenario: ResolvedScenario, webhook: WebhookResult | null): Outcome {
  const a = run.aggregate;
  const t = a.totals;
  // Health during herd's own startup second and teardown (ending every session at once) says
  // nothing about the storm it measured: only the seconds in between are judged.
  const found = findEvidence(run.healthSamples, { fromS: 1, toS: Math.floor(scenario.durationUs / 1e6) });
  const cohorts: Record<string, CohortOutcome> = {};
  for (const [name, c] of a.cohorts) {
    cohorts[name] = {
      attempts: { ...c.counters },
      latency: Object.fromEntries([...c.hist].map(([k, h]) => [k, encodeHistogram(h)])),
      errors: record(c.errors),
    };
  }
  const delivery: Record<string, DeliveryCounts> = {};
  for (const [name, tracker] of run.delivery) {
    const { streams: _streams, ...counts } = tracker.summary();
    delivery[name] = counts;
  }
  return {
    startedAtMs: run.startedAtMs,
    endedAtMs: run.endedAtMs,
    startAtMs: run.startAtMs,
    clockOffsetMs: run.startAtMs === null ? null : Math.round(run.startedAtMs - run.startAtMs),
    abort: run.abort,
    planned: run.planned,
    inFlightAtEnd: run.inFlightAtEnd,
    lostToHarness: run.lostToHarness,
    counts: {
      reconnects: t.reconnects,
      offline: t.offlineAttempts,
      gaveUp: t.gaveUp,
      started: t.started,
      succeeded: t.succeeded,
      failed: t.failed,
      timedOut: t.timedOut,
      dropped: t.dropped,
      disconnects: t.disconnects,
      outageDrops: t.outageDrops,
      sessionPresent: t.sessionPresent,
      messagesRefused: t.messagesRefused,
      requestsSent: t.requestsSent,
      requestsAnswered: Math.min(t.requestsAnswered, t.requestsSent),
    },
    latency: Object.fromEntries(Object.entries(a.latency()).map(([k, s]) => [k, s.histogram])),
    errors: Object.fromEntries(a.errorList().map((e) => [errorKeyOf(e), e.count])),
    timeline: a.timeline().map(({ connectP50Us: _a, connectP90Us: _b, connectP99Us: _c, connectMaxUs: _d, ...b }) => b),
    cohorts,
    outages: scenario.outageWindows.map((_w, i) => {
      const o = a.outages.get(i);
      return o
        ? {
            dropped: o.dropped,
            recovered: o.recovered,
            interrupted: o.interrupted ?? 0,
            recoveryUs: encodeHistogram(o.recoveryUs),
            attempts: encodeHistogram(o.attempts),
          }
        : { dropped: 0, recovered: 0, interrupted: 0, recoveryUs: EMPTY_HISTOGRAM, attempts: EMPTY_HISTOGRAM };
    }),
    observed: [...a.observed.values()].map((p) => ({
      atUs: p.atUs,
      acceptedUs: p.acceptedUs,
      dropped: p.dropped,
      recovered: p.recovered,
      recoveryUs: encodeHistogram(p.recoveryUs),
      attempts: encodeHistogram(p.attempts),
    })),
    delivery,
    tallies: record(a.tallies),
    signals: record(a.signals),
    webhook,
    workers: run.workers,
    workerFailures: run.workerFailures,
    evidence: { sustained: found.reasons, loopDelayUs: found.loopDelayUs, scheduleLagUs: found.scheduleLagUs },
    transient: found.transient,
  };
}

/** An encoded histogram without samples. */
export const EMPTY_HISTOGRAM = '';

/** A histogram from its encoded form ('' = no samples); the caller destroys it. */
export function histogramOf(encoded: string): Histogram {
  return encoded === '' ? createHistogram() : decodeHistogram(encoded);
}

/** The exact sum of encoded histograms, encoded. */
export function addHistograms(encoded: readonly string[]): string {
  const [first, ...rest] = encoded.filter((e) => e !== '');
  const h = histogramOf(first ?? '');
  for (const e of rest) addEncoded(h, e);
  const out = encodeHistogram(h);
  h.destroy();
  return out;
}
