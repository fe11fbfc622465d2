/**
 * A shard's outcome read back from its results.json (herd merge): results.json keeps every
 * histogram encoded and every count unrounded, so nothing is lost. Read as the whole run sees it:
 * worker w of shard i is worker (i − 1) × 1000 + w, in health.workers and in every line that
 * names a worker (evidence, worker failures, the abort reason).
 */
import { downlinkTallies } from '../results/downlink.js';
import {
  ERROR_ORIGINS,
  type DeliveryCounts,
  type ErrorCount,
  type ErrorOrigin,
  type HarnessEvidence,
  type Results,
  type TimelineBucket,
  type WebhookResult,
  type WorkerHealth,
} from '../results/types.js';
import { errorKeyOf, type CohortOutcome, type ObservedOutcome, type Outcome, type OutcomeBucket } from './outcome.js';

/** Workers of shard i are numbered from (i − 1) × WORKERS_PER_SHARD in a merged result. */
export const WORKERS_PER_SHARD = 1000;

const EVIDENCE_LINE = /^worker \d+: /;
const NAMES_A_WORKER = /^worker (\d+)\b/;

function countsByKey(list: readonly ErrorCount[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of list) {
    const k = errorKeyOf(e);
    out[k] = (out[k] ?? 0) + e.count;
  }
  return out;
}

function histograms(latency: Results['latency']): Record<string, string> {
  return Object.fromEntries(Object.entries(latency).map(([k, s]) => [k, s.histogram]));
}

/** Files before 1.3 did not keep the evidence apart: its lines are the reasons naming a worker. */
function evidenceOf(r: Results): HarnessEvidence {
  const sustained = r.health.reasons.filter((x) => EVIDENCE_LINE.test(x));
  return r.health.evidence ?? { sustained, loopDelayUs: 0, scheduleLagUs: 0 };
}

function byOrigin(counts: Record<ErrorOrigin, number>): Record<ErrorOrigin, number> {
  return Object.fromEntries(ERROR_ORIGINS.map((o) => [o, counts[o] ?? 0])) as Record<ErrorOrigin, number>;
}

// Field by field, never spread: a later 1.y file may carry fields this herd has no merge rule for.
function bucketOf(b: TimelineBucket): OutcomeBucket {
  return {
    t: b.t,
    attempts: b.attempts,
    succeeded: b.succeeded,
    failed: b.failed,
    timedOut: b.timedOut,
    dropped: b.dropped,
    disconnects: b.disconnects,
    connected: b.connected,
    handshaking: b.handshaking,
    errorsByOrigin: byOrigin(b.errorsByOrigin),
    loopDelayP99Us: b.loopDelayP99Us,
    reconnects: b.reconnects,
    offlineAttempts: b.offlineAttempts,
    peakHandshaking: b.peakHandshaking,
    connectHistogram: b.connectHistogram,
    harnessRssBytes: b.harnessRssBytes,
    messagesSent: b.messagesSent,
    messagesDelivered: b.messagesDelivered,
  };
}

function deliveryOf(c: DeliveryCounts): DeliveryCounts {
  const { published, sent, delivered, lost, lostByCloud, neverAcknowledged, droppedByDevice } = c;
  const { queuedAtEnd, resent, duplicated, duplicatedByResend, duplicatedByCloud, outOfOrder, tooLate, foreign } = c;
  return {
    published,
    sent,
    delivered,
    lost,
    lostByCloud,
    neverAcknowledged,
    droppedByDevice,
    queuedAtEnd,
    resent,
    duplicated,
    duplicatedByResend,
    duplicatedByCloud,
    outOfOrder,
    tooLate,
    foreign,
  };
}

function workerOf(w: WorkerHealth, first: number): WorkerHealth {
  return {
    worker: first + w.worker,
    devices: w.devices,
    peakLoopDelayP99Us: w.peakLoopDelayP99Us,
    peakLoopUtilisation: w.peakLoopUtilisation,
    peakCpuPercent: w.peakCpuPercent,
    peakRssBytes: w.peakRssBytes,
    peakOpenFiles: w.peakOpenFiles,
    peakScheduleLagUs: w.peakScheduleLagUs,
    exitedEarly: w.exitedEarly,
    warmUp: w.warmUp,
  };
}

function webhookOf(w: WebhookResult): WebhookResult {
  const { sent, received, delivered, lost, duplicated, outOfOrder, tooLate, foreign, malformed, rejected } = w;
  const counts = { sent, received, delivered, lost, duplicated, outOfOrder, tooLate, foreign, malformed, rejected };
  return { ...counts, lossRate: w.lossRate, latency: w.latency };
}

export function outcomeOfResults(r: Results): Outcome {
  const shard = r.run.shard;
  const firstWorker = shard === null ? 0 : (shard.index - 1) * WORKERS_PER_SHARD;
  const note = (line: string): string =>
    line.replace(NAMES_A_WORKER, (_m, n: string) => `worker ${firstWorker + Number(n)}`);
  const evidence = evidenceOf(r);
  const cohorts: Record<string, CohortOutcome> = {};
  for (const [name, c] of Object.entries(r.cohorts)) {
    const { started, succeeded, failed, timedOut } = c.attempts;
    const attempts = { started, succeeded, failed, timedOut };
    cohorts[name] = { attempts, latency: histograms(c.latency), errors: countsByKey(c.errors) };
  }
  const a = r.attempts;
  return {
    startedAtMs: Date.parse(r.run.startedAt),
    endedAtMs: Date.parse(r.run.endedAt),
    startAtMs: r.run.startAt === null ? null : Date.parse(r.run.startAt),
    clockOffsetMs: r.run.clockOffsetMs,
    abort:
      r.run.status === 'aborted'
        ? {
            atMs: Date.parse(r.run.abortedAt ?? r.run.endedAt),
            // Files before 1.3 say why only through the exit code.
            kind: r.run.abortKind ?? (r.run.exitCode === 3 ? 'worker-failed' : 'interrupted'),
            reason: note(r.run.abortReason ?? 'aborted'),
          }
        : null,
    planned: a.planned,
    inFlightAtEnd: a.inFlightAtEnd,
    lostToHarness: a.lostToHarness,
    counts: {
      reconnects: a.reconnects,
      offline: a.offline,
      gaveUp: a.gaveUp,
      started: a.started,
      succeeded: a.succeeded,
      failed: a.failed,
      timedOut: a.timedOut,
      dropped: a.dropped,
      disconnects: r.storm.disconnects,
      outageDrops: r.storm.outageDrops,
      sessionPresent: r.sessions.present,
      messagesRefused: r.delivery?.refused ?? 0,
      requestsSent: r.requests?.sent ?? 0,
      requestsAnswered: r.requests?.answered ?? 0,
    },
    latency: histograms(r.latency),
    errors: countsByKey(r.errors),
    timeline: r.timeline.buckets.map(bucketOf),
    cohorts,
    outages: r.outages
      .filter((o) => o.side !== 'observed')
      .map((o) => ({
        dropped: o.dropped,
        recovered: o.recovered,
        interrupted: o.interrupted,
        recoveryUs: o.recoveryHistogram,
        attempts: o.attemptsHistogram,
      })),
    observed: observedOf(r),
    delivery: Object.fromEntries(Object.entries(r.delivery?.byCohort ?? {}).map(([k, c]) => [k, deliveryOf(c)])),
    tallies: downlinkTallies(r.downlink),
    signals: { ...r.serverSignals },
    webhook: r.webhook === null ? null : webhookOf(r.webhook),
    workers: r.health.workers.map((w) => workerOf(w, firstWorker)),
    workerFailures: r.health.workerFailures.map(note),
    evidence: {
      sustained: evidence.sustained.map(note),
      loopDelayUs: evidence.loopDelayUs,
      scheduleLagUs: evidence.scheduleLagUs,
    },
    transient: r.health.notCounted.map(note),
  };
}

/**
 * A shard's observed outages, moved onto the agreed start time by how far its own origin fell from
 * it (run.clockOffsetMs), so the same outage seen by several shards joins by time.
 */
function observedOf(r: Results): ObservedOutcome[] {
  const offsetUs = (r.run.clockOffsetMs ?? 0) * 1000;
  return r.outages
    .filter((o) => o.side === 'observed')
    .map((o) => ({
      atUs: Math.max(0, o.atUs + offsetUs),
      acceptedUs: o.targetAcceptedAgain === false ? null : Math.max(0, o.atUs + o.offlineUs + offsetUs),
      dropped: o.dropped,
      recovered: o.recovered,
      recoveryUs: o.recoveryHistogram,
      attempts: o.attemptsHistogram,
    }));
}
