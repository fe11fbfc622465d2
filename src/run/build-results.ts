/** Assembles results.json from a run's outcome (pure apart from the inputs it is given). */
import type { RunOutcome } from '../engine/coordinator.js';
import { findEvidence, judgeSaturation } from '../metrics/saturation.js';
import { thresholdsTheHarnessCouldFlip } from '../thresholds/harness-effect.js';
import type { ResolvedScenario } from '../results/resolved-scenario.js';
import { evaluateThresholds } from '../thresholds/evaluate.js';
import type { Threshold } from '../scenario/threshold-parse.js';
import { EXIT } from '../errors.js';
import { downlinkResult } from '../results/downlink.js';
import { HERD_VERSION } from '../version.js';
import {
  RESULTS_SCHEMA_VERSION,
  type Attempts,
  type CohortResult,
  type DeliveryCounts,
  type DeliveryResult,
  type Environment,
  type LatencySummary,
  type OutageResult,
  type Results,
  type TargetLag,
  type TimelineBucket,
  type WebhookResult,
} from '../results/types.js';
import { checkAccounting, recoveryPercentiles } from '../metrics/accounting.js';
import { createHistogram, encodeHistogram, summarize } from '../metrics/histogram.js';
import { parseErrorKey } from '../metrics/recorder.js';
import type { ResolvedReconnect } from '../results/resolved-scenario.js';
import { formatUs } from '../util/duration.js';
import { firstSecondAfter, peakSucceededPerS } from '../report/labels.js';

export interface BuildInput {
  runId: string;
  scenario: ResolvedScenario;
  thresholds: readonly Threshold[];
  environment: Environment;
  outcome: RunOutcome;
  target: string;
  embeddedTarget: boolean;
  allowSaturated: boolean;
  /** --max-handshakes per worker (0 = no cap), for the saturation advice. */
  maxHandshakesPerWorker?: number;
  /** The embedded target's profile and knobs in words (null for another target). */
  embeddedTargetKnobs?: string | null;
  /** What --webhook-sink counted, when it ran. */
  webhook?: WebhookResult | null;
  /** The target ran on this machine (embedded or loopback). */
  sharesMachine?: boolean;
  /** The embedded target's report of its own lag. */
  targetLag?: TargetLag | null;
}

function outageResults(s: ResolvedScenario, outcome: RunOutcome, timeline: TimelineBucket[]): OutageResult[] {
  const out: OutageResult[] = [];
  s.outageWindows.forEach((w, oi) => {
    const t = outcome.aggregate.outages.get(oi) ?? { dropped: 0, recovered: 0, recoveryUs: createHistogram(), attempts: createHistogram() };
    const after = timeline.filter((b) => b.t >= Math.floor(w.atUs / 1e6));
    out.push({
      name: w.name,
      side: w.side,
      atUs: w.atUs,
      offlineUs: w.offlineUs,
      mode: w.mode,
      dropped: t.dropped,
      recovered: t.recovered,
      recovery: recoveryPercentiles(t),
      reconnectAttempts: {
        p50: t.attempts.totalCount === 0 ? 0 : t.attempts.getValueAtPercentile(50),
        p99: t.attempts.totalCount === 0 ? 0 : t.attempts.getValueAtPercentile(99),
        max: t.attempts.totalCount === 0 ? 0 : t.attempts.maxValue,
      },
      recoveryHistogram: encodeHistogram(t.recoveryUs),
      attemptsHistogram: encodeHistogram(t.attempts),
      peakAttemptsPerS: Math.max(0, ...after.map((b) => b.attempts)),
      peakHandshaking: Math.max(0, ...after.map((b) => b.peakHandshaking)),
      peakSucceededPerSAfterEnd: peakSucceededPerS(timeline, firstSecondAfter(w.atUs + w.offlineUs)),
    });
  });
  return out;
}

function cohortResults(s: ResolvedScenario, outcome: RunOutcome): Record<string, CohortResult> {
  const out: Record<string, CohortResult> = {};
  for (const c of s.cohorts) {
    const t = outcome.aggregate.cohorts.get(c.name);
    const latency: Record<string, LatencySummary> = {};
    for (const [k, h] of t?.hist ?? []) latency[k] = summarize(h);
    out[c.name] = {
      devices: c.devices,
      reconnectPolicy: describePolicy(c.reconnect),
      attempts: t ? { ...t.counters } : { started: 0, succeeded: 0, failed: 0, timedOut: 0 },
      latency,
      errors: [...(t?.errors ?? new Map<string, number>())]
        .map(([key, count]) => ({ ...parseErrorKey(key), count }))
        .sort((a, b) => b.count - a.count),
    };
  }
  return out;
}

function deliveryResult(outcome: RunOutcome): DeliveryResult | null {
  if (outcome.delivery.size === 0) return null;
  const byCohort: Record<string, DeliveryCounts> = {};
  const total: DeliveryCounts = { sent: 0, delivered: 0, lost: 0, duplicated: 0, outOfOrder: 0, tooLate: 0, foreign: 0 };
  for (const [name, tracker] of outcome.delivery) {
    const { streams: _streams, ...s } = tracker.summary();
    byCohort[name] = s;
    for (const k of Object.keys(total) as (keyof DeliveryCounts)[]) total[k] += s[k];
  }
  return { ...total, lossRate: total.sent === 0 ? 0 : total.lost / total.sent, refused: outcome.aggregate.totals.messagesRefused, byCohort };
}

/** issue 16: MQTT 5 server signals by key, in a stable order. */
function sortedRecord(m: ReadonlyMap<string, number>): Record<string, number> {
  return Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function describePolicy(p: ResolvedReconnect): string {
  switch (p.policy) {
    case 'none':
      return 'none';
    case 'fixed':
      return `fixed ${formatUs(p.delayUs)}, ${describeJitter(p)}`;
    case 'linear':
      return `linear ${formatUs(p.initialUs)} +${formatUs(p.stepUs)} up to ${formatUs(p.maxUs)}, ${describeJitter(p)}`;
    case 'exponential':
      return `exponential ${formatUs(p.initialUs)} ×${p.multiplier} up to ${formatUs(p.maxUs)}, ${describeJitter(p)}`;
  }
}

// issue 16: the fields SDK presets add, said only when set.
function describeJitter(p: Exclude<ResolvedReconnect, { policy: 'none' }>): string {
  const share = p.jitter === 'proportional' ? ` ±${Math.round((p.jitterShare ?? 0.05) * 1000) / 10}%` : '';
  const reset = p.resetAfterUs === undefined ? '' : `, reset after ${formatUs(p.resetAfterUs)} connected`;
  return `jitter ${p.jitter}${share}${reset}`;
}

export function buildResults(i: BuildInput): Results {
  const { outcome } = i;
  const t = outcome.aggregate.totals;
  const attempts: Attempts = {
    planned: outcome.planned,
    reconnects: t.reconnects,
    offline: t.offlineAttempts,
    gaveUp: t.gaveUp,
    started: t.started,
    succeeded: t.succeeded,
    failed: t.failed,
    timedOut: t.timedOut,
    dropped: t.dropped,
    inFlightAtEnd: outcome.inFlightAtEnd,
    lostToHarness: outcome.lostToHarness,
  };
  const errors = outcome.aggregate.errorList();
  const timeline = outcome.aggregate.timeline();
  // Health during herd's own startup second and teardown (ending every session at once) says
  // nothing about the storm it measured: only the seconds in between are judged.
  const evidence = findEvidence(outcome.healthSamples, { fromS: 1, toS: Math.floor(i.scenario.durationUs / 1e6) });
  const accounting = checkAccounting(attempts);
  const aborted = outcome.abort !== null;
  const partial: Omit<Results, 'thresholds'> = {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    tool: { name: 'herd', version: HERD_VERSION },
    run: {
      id: i.runId,
      status: aborted ? 'aborted' : 'completed',
      verdict: 'passed',
      exitCode: 0,
      startedAt: new Date(outcome.startedAtMs).toISOString(),
      endedAt: new Date(outcome.endedAtMs).toISOString(),
      abortedAt: aborted ? new Date(outcome.abort?.atMs ?? outcome.endedAtMs).toISOString() : null,
      abortReason: outcome.abort?.reason ?? null,
      durationMs: Math.max(0, outcome.endedAtMs - outcome.startedAtMs),
      workers: outcome.workers.length,
      target: i.target,
      embeddedTarget: i.embeddedTarget,
      shard: outcome.shard.count > 1 ? { index: outcome.shard.index + 1, count: outcome.shard.count } : null,
      startAt: outcome.startAtMs === null ? null : new Date(outcome.startAtMs).toISOString(),
      clockOffsetMs: outcome.startAtMs === null ? null : Math.round(outcome.startedAtMs - outcome.startAtMs),
      mergedFrom: null,
      allowSaturated: i.allowSaturated,
      embeddedTargetKnobs: i.embeddedTargetKnobs ?? null,
      sharesMachine: i.sharesMachine ?? false,
      targetLag: i.targetLag ?? null,
    },
    scenario: i.scenario,
    environment: i.environment,
    attempts,
    accounting,
    latency: outcome.aggregate.latency(),
    errors,
    timeline: { bucketMs: 1000, buckets: timeline },
    health: {
      saturated: false,
      affectsVerdict: false,
      reasons: [],
      effects: [],
      notCounted: evidence.transient,
      advice: [],
      workerFailures: outcome.workerFailures,
      workers: outcome.workers,
    },
    storm: {
      peakAttemptsPerS: Math.max(0, ...timeline.map((b) => b.attempts)),
      peakSucceededPerS: peakSucceededPerS(timeline),
      peakHandshaking: Math.max(0, ...timeline.map((b) => b.peakHandshaking)),
      disconnects: t.disconnects,
      outageDrops: t.outageDrops,
    },
    cohorts: cohortResults(i.scenario, outcome),
    outages: outageResults(i.scenario, outcome, timeline),
    delivery: deliveryResult(outcome),
    requests: i.scenario.cohorts.some((c) => c.device.requests !== null)
      ? { sent: t.requestsSent, answered: Math.min(t.requestsAnswered, t.requestsSent), lost: Math.max(0, t.requestsSent - t.requestsAnswered) }
      : null,
    downlink: downlinkResult(outcome.aggregate.tallies, i.scenario.cohorts.filter((c) => c.device.downlink !== null).map((c) => c.name)),
    sessions: { present: t.sessionPresent, presentRate: t.succeeded === 0 ? 0 : t.sessionPresent / t.succeeded },
    serverSignals: sortedRecord(outcome.aggregate.signals),
    webhook: i.webhook ?? null,
  };
  const thresholds = evaluateThresholds(i.thresholds, partial);
  const thresholdsPassed = thresholds.every((x) => x.passed);
  const judged = judgeSaturation({
    evidence,
    errors,
    droppedAttempts: aborted ? 0 : attempts.dropped,
    flipped: thresholdsTheHarnessCouldFlip(i.thresholds, thresholds, partial, evidence),
    workers: outcome.workers.length,
    cores: i.environment.cpus,
    maxHandshakesPerWorker: i.maxHandshakesPerWorker ?? 0,
  });
  const health = { ...partial.health, ...judged, notCounted: evidence.transient };
  let exitCode: number = EXIT.ok;
  if (aborted) exitCode = outcome.abort?.kind === 'failure' ? EXIT.runFailed : EXIT.interrupted;
  else if (!accounting.balanced || outcome.workerFailures.length > 0 || (judged.affectsVerdict && !i.allowSaturated)) exitCode = EXIT.runFailed;
  else if (!thresholdsPassed) exitCode = EXIT.thresholdFailed;
  const verdict = exitCode === EXIT.ok ? 'passed' : 'failed';
  return { ...partial, run: { ...partial.run, verdict, exitCode }, health, thresholds };
}
