/**
 * results.json — the single source of truth of a run. Every other format is rendered from it and
 * `herd merge` combines shards of it. Plain JSON data only. Units are in the field names
 * (…Us = integer microseconds, …Ms = milliseconds). Documented in docs/results.md and
 * schemas/results.schema.json.
 */
import type { NameTally } from './names.js';
import type { DownlinkResult } from './downlink.js';
import type { DeliveryResult } from './delivery.js';

export type { DeliveryCounts, DeliveryResult } from './delivery.js';
import type { ResolvedScenario } from './resolved-scenario.js';
import type { CommandRecord } from './command-schema.js';
import type { OutageResult, PercentilesUs } from './outage-types.js';

export const RESULTS_SCHEMA_VERSION = '1.8.0';

export type RunStatus = 'completed' | 'aborted';
export type Verdict = 'passed' | 'failed';
/** Why a run was aborted: the user stopped it (exit 130), or a worker process died (exit 3). */
export const ABORT_KINDS = ['interrupted', 'worker-failed'] as const;
export type AbortKind = (typeof ABORT_KINDS)[number];

/** The embedded target's own lag: its model asked for an answer at t, the host delivered it at t + lag. */
export interface TargetLag {
  boundMs: number;
  maxMs: number;
  overBoundTotal: number;
  /** Seconds its event loop was over 90% busy (the busiest process). */
  busySeconds: number;
}

/** Where a failure came from. `local` is always the harness's own fault. */
export type ErrorOrigin = 'local' | 'network' | 'tls' | 'protocol' | 'timeout';
export const ERROR_ORIGINS: readonly ErrorOrigin[] = ['local', 'network', 'tls', 'protocol', 'timeout'];

export interface LatencySummary {
  count: number;
  minUs: number;
  meanUs: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
  /** HdrHistogram compressed base64 encoding (3 significant digits, µs): mergeable. */
  histogram: string;
}

/** One wire failure as protocols/ classify it and metrics/ count it: who failed, in which phase, with which code. */
export interface Failure {
  origin: ErrorOrigin;
  phase: string;
  code: string;
}

export interface ErrorCount {
  origin: ErrorOrigin;
  /** The phase in which it happened, e.g. tcpConnect, mqttConnack, held. */
  phase: string;
  /** Stable code: an errno (ECONNREFUSED), CONNACK_5, TIMEOUT, … */
  code: string;
  count: number;
}

export interface Attempts {
  /** First attempts from the plan (one per device). */
  planned: number;
  /** Further attempts: after a failure or a drop (by the reconnect policy) and churn, offline ones included. */
  reconnects: number;
  /** Attempts (planned or reconnects) made while the device's simulated network was down: never sent to the target. */
  offline: number;
  /** Devices whose reconnect policy gave up. */
  gaveUp: number;
  started: number;
  succeeded: number;
  failed: number;
  timedOut: number;
  dropped: number;
  inFlightAtEnd: number;
  /** Attempts of worker processes that died: their outcome is unknown, and never the target's fault. */
  lostToHarness: number;
}

export interface TimelineBucket {
  /** Seconds since the run origin (bucket start). */
  t: number;
  attempts: number;
  succeeded: number;
  failed: number;
  timedOut: number;
  dropped: number;
  /** Sessions that ended after being connected (drops, keepalive failures, clean teardowns excluded). */
  disconnects: number;
  /** Devices connected at the end of the bucket. */
  connected: number;
  /** Handshakes started but not finished at the end of the bucket. */
  handshaking: number;
  errorsByOrigin: Record<ErrorOrigin, number>;
  connectP50Us: number | null;
  connectP90Us: number | null;
  connectP99Us: number | null;
  connectMaxUs: number | null;
  /** Worst event-loop delay p99 among workers in this second. */
  loopDelayP99Us: number | null;
  /** Attempts after a device's first (retries after failures, drops or churn). */
  reconnects: number;
  /** Attempts made while a device's simulated network was down (never sent). */
  offlineAttempts: number;
  /** Most handshakes in flight at once within the second (sum of per-worker peaks). */
  peakHandshaking: number;
  /** This second's connect.total histogram (compressed base64), for exact merging of shards. */
  connectHistogram: string | null;
  /** Resident memory of all worker processes at the end of the second (null before any sample). */
  harnessRssBytes: number | null;
  /** Telemetry messages published and received back in this second. */
  messagesSent: number;
  messagesDelivered: number;
}

export interface WorkerHealth {
  worker: number;
  devices: number;
  peakLoopDelayP99Us: number;
  peakLoopUtilisation: number;
  peakCpuPercent: number;
  peakRssBytes: number;
  peakOpenFiles: number;
  peakScheduleLagUs: number;
  exitedEarly: boolean;
  /**
   * The worker's warm-up before the origin (against its own loopback listener, never the target);
   * null: none (or a file before 1.5).
   */
  warmUp: WarmUp | null;
}

/** What a worker's warm-up did before the run origin. */
export interface WarmUp {
  /** Handshakes completed against the worker's own loopback listener. */
  handshakes: number;
  elapsedMs: number;
}

export interface Health {
  /** Sustained evidence that the harness was a bottleneck (or it failed attempts itself). */
  saturated: boolean;
  /** What the harness added could have changed a threshold's outcome or the accounting (exit 3 unless allowed). */
  affectsVerdict: boolean;
  /** The evidence, with figures. */
  reasons: string[];
  /** What the harness did (or could have done) to the numbers. */
  effects: string[];
  /** Excursions past a limit too short to count as evidence. */
  notCounted: string[];
  /** What to change (--workers, --max-handshakes, a quieter runner, --allow-saturated). */
  advice: string[];
  /** Worker processes that died during the run, with what was lost. */
  workerFailures: string[];
  workers: WorkerHealth[];
  /** The sustained evidence and the harness's worst delays, kept so shards' judgements can be redone when merged. */
  evidence: HarnessEvidence | null;
}

/** What the harness's health samples showed over the judged seconds (startup second and teardown excluded). */
export interface HarnessEvidence {
  /** Sustained excursions past a limit, one line per worker. */
  sustained: string[];
  /** Worst event-loop delay p99 and schedule lag: what the harness may have added to a measurement. */
  loopDelayUs: number;
  scheduleLagUs: number;
}

export interface ThresholdResult {
  metric: string;
  expression: string;
  passed: boolean;
  /** The observed value in the threshold's unit, or null when there were no samples. */
  observed: number | null;
  observedText: string;
}

export interface Environment {
  herdVersion: string;
  node: string;
  platform: string;
  release: string;
  arch: string;
  cpus: number;
  cpuModel: string;
  totalMemoryBytes: number;
  openFileLimit: { soft: number | null; hard: number | null };
  ephemeralPortRange: [number, number] | null;
}

export type { CommandRecord, OutageResult, PercentilesUs };

export interface CohortResult {
  devices: number;
  reconnectPolicy: string;
  attempts: { started: number; succeeded: number; failed: number; timedOut: number };
  latency: Record<string, LatencySummary>;
  errors: ErrorCount[];
}

/** What --webhook-sink counted: messages the target forwarded onward (its integrations path). */
export interface WebhookResult {
  /** Messages the devices report having sent (cohorts publishing with echo; other publishers: highest sequence + 1). */
  sent: number;
  /** Forwarded messages with herd's stamp that reached the sink, duplicates included. */
  received: number;
  delivered: number;
  /** sent − delivered, per publisher (never negative). */
  lost: number;
  duplicated: number;
  outOfOrder: number;
  /** More than the sequence window behind their publisher's newest: never counted delivered. */
  tooLate: number;
  /** Well-formed forwards whose payload is not herd's (or arrived before the run origin). */
  foreign: number;
  /** Bodies that were not the forward JSON (bad JSON, no base64 payload, cut short). */
  malformed: number;
  /** Requests refused: not POST, body over the size cap (413), or over the connection cap. */
  rejected: number;
  /** lost / sent (0 when nothing was sent). */
  lossRate: number;
  /** Publish (device's stamp) → the sink has the forwarded body; null before any delivery. */
  latency: LatencySummary | null;
}

export interface Results {
  schemaVersion: string;
  tool: { name: 'herd'; version: string };
  run: {
    id: string;
    status: RunStatus;
    verdict: Verdict;
    exitCode: number;
    startedAt: string;
    endedAt: string;
    /** Wall-clock time the run was interrupted, when status is aborted. */
    abortedAt: string | null;
    abortReason: string | null;
    /** Why the run was aborted, when status is aborted. */
    abortKind: AbortKind | null;
    durationMs: number;
    workers: number;
    target: string;
    embeddedTarget: boolean;
    /** Which slice of the plan this run carried (1-based index), or null for a whole run. */
    shard: { index: number; count: number } | null;
    /** The agreed start time (--start-at) and how far the actual origin was from it. */
    startAt: string | null;
    clockOffsetMs: number | null;
    /** For a merged result: the run ids of its shards. */
    mergedFrom: string[] | null;
    /** `--allow-saturated` was given: the exit code follows the thresholds even if the harness decided them. */
    allowSaturated: boolean;
    /** The embedded target's profile and knobs in words, or null for another target. */
    embeddedTargetKnobs: string | null;
    /** The target ran on herd's machine (embedded, or on loopback): they shared its cores. */
    sharesMachine: boolean;
    /** How late the embedded target's host ran its model (null: another target, or not reported). */
    targetLag: TargetLag | null;
    /** --max-handshakes per worker (0 = no cap), for the saturation advice. */
    maxHandshakesPerWorker: number;
    /** Which connect path each cohort's devices ran on, by cohort (null in files before it was recorded). */
    engines: Record<string, 'js' | 'native' | 'mixed'> | null;
    /** Per target given by host name: lookups and attempts by address ([] for IP targets and in files before it). */
    names: NameTally[];
    /** false: --no-warm-up, the storm started on code V8 had not optimised; true: warmed (null in files before 1.6). */
    warmUp: boolean | null;
  };
  scenario: ResolvedScenario;
  environment: Environment;
  attempts: Attempts;
  accounting: { balanced: boolean; detail: string };
  latency: Record<string, LatencySummary>;
  errors: ErrorCount[];
  timeline: { bucketMs: number; buckets: TimelineBucket[] };
  health: Health;
  /** The storm as a whole: the busiest seconds. `disconnects` are sessions lost after connecting. */
  storm: {
    peakAttemptsPerS: number;
    peakSucceededPerS: number;
    peakHandshaking: number;
    disconnects: number;
    outageDrops: number;
  };
  cohorts: Record<string, CohortResult>;
  outages: OutageResult[];
  /** End-to-end message accounting; null when no cohort publishes with echo. */
  delivery: DeliveryResult | null;
  /** Cloud → device requests; null when no cohort takes requests. */
  requests: { sent: number; answered: number; lost: number } | null;
  /** Cloud → device messages and persistent-session replay; null when no cohort takes downlink messages. */
  downlink: DownlinkResult | null;
  /** MQTT connects whose CONNACK reported a session already present, and their share of successes. */
  sessions: { present: number; presentRate: number };
  /**
   * MQTT 5 server signals devices acted on, by key (issue 16): "CONNACK_xx" / "DISCONNECT_xx" by
   * reason code, "takenOver" (client id taken over), "referenceFollowed", "referenceRefused",
   * "keepaliveAdopted". Empty when none.
   */
  serverSignals: Record<string, number>;
  /** What `herd run --webhook-sink` counted; null when no sink ran. */
  webhook: WebhookResult | null;
  thresholds: ThresholdResult[];
}
