/**
 * Assembles results.json from an outcome (pure): the one builder for a run and for a merge of its
 * shards. Every field is built here from the outcome and the run's settings; nothing is copied.
 */
import type { NameTally } from '../results/names.js';
import { judgeSaturation } from '../metrics/saturation.js';
import { thresholdsTheHarnessCouldFlip } from '../thresholds/harness-effect.js';
import type { ResolvedScenario } from '../results/resolved-scenario.js';
import { evaluateThresholds } from '../thresholds/evaluate.js';
import type { Threshold } from '../scenario/threshold-parse.js';
import { downlinkResult } from '../results/downlink.js';
import { emptyDeliveryCounts } from '../results/delivery.js';
import { HERD_VERSION } from '../version.js';
import {
  RESULTS_SCHEMA_VERSION,
  type Attempts,
  type CohortResult,
  type DeliveryCounts,
  type DeliveryResult,
  type Environment,
  type ErrorCount,
  type LatencySummary,
  type CommandRecord,
  type OutageResult,
  type Results,
  type TargetLag,
  type TimelineBucket,
} from '../results/types.js';
import { checkAccounting, recoveryPercentiles } from '../metrics/accounting.js';
import { encodeHistogram, summarize } from '../metrics/histogram.js';
import { parseErrorKey } from '../metrics/recorder.js';
import { peakSucceededPerS } from '../report/labels.js';
import { withOutagePeaks, type OutageWithoutPeaks } from '../metrics/outage-peaks.js';
import { histogramOf, type Outcome, type OutcomeBucket } from './outcome.js';
import { decideExit } from './decide-exit.js';
import { describePolicy } from './describe-policy.js';
import { observedOutageResults } from '../metrics/observed-results.js';

export interface BuildInput {
  runId: string;
  /** Which slice of the plan this run carried (1-based), or null for a whole run. */
  shard: { index: number; count: number } | null;
  /** For a merge: the run ids of its shards. */
  mergedFrom: string[] | null;
  scenario: ResolvedScenario;
  thresholds: readonly Threshold[];
  environment: Environment;
  outcome: Outcome;
  target: string;
  embeddedTarget: boolean;
  allowSaturated: boolean;
  /** --max-handshakes per worker (0 = no cap), for the saturation advice. */
  maxHandshakesPerWorker: number;
  /** The embedded target's profile and knobs in words (null for another target). */
  embeddedTargetKnobs: string | null;
  /** The target ran on this machine (embedded or loopback). */
  sharesMachine: boolean;
  /** The embedded target's report of its own lag. */
  targetLag: TargetLag | null;
  /** Deliveries the embedded target dropped on purpose, by its own count (null: another target, or no answer). */
  targetDropped?: number | null;
  /** Which connect path each cohort ran on (js / native / mixed), or null when not known. */
  engines: Record<string, 'js' | 'native' | 'mixed'> | null;
  /** Per target given by host name: lookups and attempts by address (none for IP targets). */
  names: NameTally[];
  /** false: --no-warm-up; null: not known (a merge of shards that disagree, or older files). */
  warmUp: boolean | null;
  /** What the commands of each declared outage did, by outage name. */
  commands?: Record<string, CommandRecord[]>;
}

let empty: { encoded: string; summary: LatencySummary } | null = null;

/** Most series of a run have no samples: their summary is made once. */
function emptySummary(): { encoded: string; summary: LatencySummary } {
  if (empty === null) {
    const h = histogramOf('');
    empty = { encoded: encodeHistogram(h), summary: summarize(h) };
    h.destroy();
  }
  return empty;
}

function summaryOf(encoded: string): LatencySummary {
  const none = emptySummary();
  if (encoded === '' || encoded === none.encoded) return { ...none.summary };
  const h = histogramOf(encoded);
  const s = summarize(h);
  h.destroy();
  return s;
}

function summaries(latency: Record<string, string>): Record<string, LatencySummary> {
  return Object.fromEntries(Object.entries(latency).map(([k, e]) => [k, summaryOf(e)]));
}

/** Most frequent first; ties in key order, so the list does not depend on which worker saw what first. */
function errorList(errors: Record<string, number>): ErrorCount[] {
  return Object.entries(errors)
    .sort(([ka, a], [kb, b]) => b - a || (ka < kb ? -1 : ka > kb ? 1 : 0))
    .map(([key, count]) => ({ ...parseErrorKey(key), count }));
}

function timelineBucket(b: OutcomeBucket): TimelineBucket {
  if (b.connectHistogram === null) {
    return { ...b, connectP50Us: null, connectP90Us: null, connectP99Us: null, connectMaxUs: null };
  }
  const h = histogramOf(b.connectHistogram);
  const out = {
    ...b,
    connectP50Us: h.getValueAtPercentile(50),
    connectP90Us: h.getValueAtPercentile(90),
    connectP99Us: h.getValueAtPercentile(99),
    connectMaxUs: h.maxValue,
  };
  h.destroy();
  return out;
}

/** A declared outage's commands all did their job (another shard's are not judged here). */
function commandsOk(list: readonly CommandRecord[]): boolean {
  return list.every((c) => c.outcome === 'ok' || c.outcome === 'other-shard');
}

function outageResults(
  s: ResolvedScenario,
  outcome: Outcome,
  commands: Record<string, CommandRecord[]>,
): OutageWithoutPeaks[] {
  return s.outageWindows.map((w, i) => {
    const o = outcome.outages[i] ?? { dropped: 0, recovered: 0, interrupted: 0, recoveryUs: '', attempts: '' };
    const recoveryUs = histogramOf(o.recoveryUs);
    const attempts = histogramOf(o.attempts);
    const none = attempts.totalCount === 0;
    const out: OutageWithoutPeaks = {
      name: w.name,
      side: w.side,
      atUs: w.atUs,
      offlineUs: w.offlineUs,
      mode: w.mode,
      dropped: o.dropped,
      recovered: o.recovered,
      interrupted: o.interrupted,
      recovery: recoveryPercentiles({ dropped: o.dropped, recovered: o.recovered, recoveryUs, attempts }),
      reconnectAttempts: {
        p50: none ? 0 : attempts.getValueAtPercentile(50),
        p99: none ? 0 : attempts.getValueAtPercentile(99),
        max: none ? 0 : attempts.maxValue,
      },
      recoveryHistogram: encodeHistogram(recoveryUs),
      attemptsHistogram: encodeHistogram(attempts),
    };
    if (w.side === 'declared') {
      out.commands = commands[w.name] ?? [];
      out.commandsOk = commandsOk(out.commands);
    }
    recoveryUs.destroy();
    attempts.destroy();
    return out;
  });
}

function cohortResults(s: ResolvedScenario, outcome: Outcome): Record<string, CohortResult> {
  const out: Record<string, CohortResult> = {};
  for (const c of s.cohorts) {
    const t = Object.hasOwn(outcome.cohorts, c.name) ? outcome.cohorts[c.name] : undefined;
    out[c.name] = {
      devices: c.devices,
      reconnectPolicy: describePolicy(c.reconnect),
      attempts: t ? { ...t.attempts } : { started: 0, succeeded: 0, failed: 0, timedOut: 0 },
      latency: summaries(t?.latency ?? {}),
      errors: errorList(t?.errors ?? {}),
    };
  }
  return out;
}

function deliveryResult(outcome: Outcome, targetDropped: number | null): DeliveryResult | null {
  const cohorts = Object.keys(outcome.delivery).sort();
  if (cohorts.length === 0) return null;
  const byCohort: Record<string, DeliveryCounts> = {};
  const total: DeliveryCounts = emptyDeliveryCounts();
  for (const name of cohorts) {
    const c = outcome.delivery[name] as DeliveryCounts;
    byCohort[name] = { ...c };
    for (const k of Object.keys(total) as (keyof DeliveryCounts)[]) total[k] += c[k];
  }
  const lossRate = total.sent === 0 ? 0 : total.lost / total.sent;
  return { ...total, lossRate, refused: outcome.counts.messagesRefused, targetDropped, byCohort };
}

/** In a stable order, so the file does not depend on which signal came first. */
function sortedRecord(m: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function buildResults(i: BuildInput): Results {
  const { outcome } = i;
  const c = outcome.counts;
  const attempts: Attempts = {
    planned: outcome.planned,
    reconnects: c.reconnects,
    offline: c.offline,
    gaveUp: c.gaveUp,
    started: c.started,
    succeeded: c.succeeded,
    failed: c.failed,
    timedOut: c.timedOut,
    dropped: c.dropped,
    inFlightAtEnd: outcome.inFlightAtEnd,
    lostToHarness: outcome.lostToHarness,
  };
  const errors = errorList(outcome.errors);
  const timeline = outcome.timeline.map(timelineBucket);
  const accounting = checkAccounting(attempts);
  const abort = outcome.abort;
  const found = outcome.evidence;
  const evidence = {
    sustained: found.sustained.length > 0,
    reasons: found.sustained,
    transient: outcome.transient,
    loopDelayUs: found.loopDelayUs,
    scheduleLagUs: found.scheduleLagUs,
  };
  const partial: Omit<Results, 'thresholds'> = {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    tool: { name: 'herd', version: HERD_VERSION },
    run: {
      id: i.runId,
      status: abort !== null ? 'aborted' : 'completed',
      verdict: 'passed',
      exitCode: 0,
      startedAt: new Date(outcome.startedAtMs).toISOString(),
      endedAt: new Date(outcome.endedAtMs).toISOString(),
      abortedAt: abort !== null ? new Date(abort.atMs).toISOString() : null,
      abortReason: abort?.reason ?? null,
      abortKind: abort?.kind ?? null,
      durationMs: Math.max(0, outcome.endedAtMs - outcome.startedAtMs),
      workers: outcome.workers.length,
      target: i.target,
      embeddedTarget: i.embeddedTarget,
      shard: i.shard,
      startAt: outcome.startAtMs === null ? null : new Date(outcome.startAtMs).toISOString(),
      clockOffsetMs: outcome.clockOffsetMs,
      mergedFrom: i.mergedFrom,
      allowSaturated: i.allowSaturated,
      embeddedTargetKnobs: i.embeddedTargetKnobs,
      maxHandshakesPerWorker: i.maxHandshakesPerWorker,
      sharesMachine: i.sharesMachine,
      targetLag: i.targetLag,
      engines: i.engines,
      names: i.names,
      warmUp: i.warmUp,
    },
    scenario: i.scenario,
    environment: i.environment,
    attempts,
    accounting,
    latency: summaries(outcome.latency),
    errors,
    timeline: { bucketMs: 1000, buckets: timeline },
    health: {
      saturated: false,
      affectsVerdict: false,
      reasons: [],
      effects: [],
      notCounted: outcome.transient,
      advice: [],
      workerFailures: outcome.workerFailures,
      workers: outcome.workers,
      evidence: outcome.evidence,
    },
    storm: {
      peakAttemptsPerS: Math.max(0, ...timeline.map((b) => b.attempts)),
      peakSucceededPerS: peakSucceededPerS(timeline),
      peakHandshaking: Math.max(0, ...timeline.map((b) => b.peakHandshaking)),
      disconnects: c.disconnects,
      outageDrops: c.outageDrops,
    },
    cohorts: cohortResults(i.scenario, outcome),
    outages: withOutagePeaks(timeline, [
      ...outageResults(i.scenario, outcome, i.commands ?? {}),
      ...observedOutageResults(
        outcome.observed.map((p) => ({
          ...p,
          recoveryUs: histogramOf(p.recoveryUs),
          attempts: histogramOf(p.attempts),
        })),
        // Parts join within the detection window, plus the shards' clock offset for a merge.
        (i.scenario.observedOutages?.windowUs ?? 0) + Math.abs(outcome.clockOffsetMs ?? 0) * 1000,
        timeline,
        i.scenario.durationUs,
      ),
    ]),
    delivery: deliveryResult(outcome, i.targetDropped ?? null),
    requests: i.scenario.cohorts.some((x) => x.device.requests !== null)
      ? {
          sent: c.requestsSent,
          answered: Math.min(c.requestsAnswered, c.requestsSent),
          lost: Math.max(0, c.requestsSent - c.requestsAnswered),
        }
      : null,
    downlink: downlinkResult(
      new Map(Object.entries(outcome.tallies)),
      i.scenario.cohorts.filter((x) => x.device.downlink !== null).map((x) => x.name),
    ),
    sessions: { present: c.sessionPresent, presentRate: c.succeeded === 0 ? 0 : c.sessionPresent / c.succeeded },
    serverSignals: sortedRecord(outcome.signals),
    // Summarised here like every other latency, so a run and a merge read the same histogram the same way.
    webhook: outcome.webhook && {
      ...outcome.webhook,
      latency: outcome.webhook.latency && summaryOf(outcome.webhook.latency.histogram),
    },
  };
  const thresholds = evaluateThresholds(i.thresholds, partial);
  const judged = judgeSaturation({
    evidence,
    errors,
    droppedAttempts: abort !== null ? 0 : attempts.dropped,
    flipped: thresholdsTheHarnessCouldFlip(i.thresholds, thresholds, partial, evidence),
    workers: outcome.workers.length,
    cores: i.environment.cpus,
    maxHandshakesPerWorker: i.maxHandshakesPerWorker,
  });
  const { exitCode, verdict } = decideExit({
    aborted: abort?.kind ?? null,
    balanced: accounting.balanced,
    workerFailed: outcome.workerFailures.length > 0,
    harnessDecided: judged.affectsVerdict && !i.allowSaturated,
    thresholdsPassed: thresholds.every((x) => x.passed),
  });
  const health = { ...partial.health, ...judged };
  return { ...partial, run: { ...partial.run, verdict, exitCode }, health, thresholds };
}
