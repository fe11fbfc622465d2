/**
 * The coordinator: forks the worker processes, gives each its exact slice of the plan and the
 * shared origin, merges the deltas they send each second, and stops them on request. It emits
 * events ('second', 'health') for presentation; it never writes files.
 */
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { Aggregate } from '../metrics/aggregate.js';
import { DeliveryTracker } from '../metrics/delivery.js';
import { mergeNameTallies, type NameTally } from '../results/names.js';
import { WARM_MERGE_MIN_DEVICES, warmMerge } from '../metrics/warm-merge.js';
import type { ResolvedScenario } from '../results/resolved-scenario.js';
import type { AbortKind, TimelineBucket, WorkerHealth } from '../results/types.js';
import { monotonicNowNs } from '../util/clock.js';
import type { HealthSample } from './health.js';
import type { FromWorker, ToWorker } from './messages.js';
import { forkWorker, type WorkerPool } from './worker-pool.js';

export interface CoordinatorOptions {
  runId: string;
  scenario: ResolvedScenario;
  targets: string[][];
  workers: number;
  shard: { index: number; count: number };
  /** Wall-clock time (ms since epoch) at which the origin should fall, so shards start together. */
  startAtMs: number | null;
  sourceIps: string[];
  /** Told the run origin (monotonic ns) once it is chosen, e.g. to align the target's outages. */
  onOrigin?: (originNs: bigint) => void;
  maxHandshakesInFlight: number;
  maxPacketBytes: number;
  /** What to do when a worker process dies: stop the run, or carry on with the others. */
  onWorkerFailure: 'abort' | 'continue';
  /** The worker entry point; tests substitute workers that misbehave on purpose. */
  workerScript?: string;
  workerArgs?: string[];
  /** Warm each worker's connect path before the origin (default true; benchmarks compare both). */
  warmUp?: boolean;
  /** Workers forked ahead (while the target started), adopted instead of forking `workers` new ones. */
  pool?: WorkerPool;
}

export { workerEnv, workerExecArgv } from './worker-pool.js';

export interface RunOutcome {
  aggregate: Aggregate;
  planned: number;
  inFlightAtEnd: number;
  startedAtMs: number;
  endedAtMs: number;
  abort: { atMs: number; reason: string; kind: AbortKind } | null;
  shard: { index: number; count: number };
  /** Wall time the run was asked to start at, if any. */
  startAtMs: number | null;
  workers: WorkerHealth[];
  healthSamples: { worker: number; t: number; sample: HealthSample }[];
  /** Merged end-to-end delivery per cohort (cohorts with echo telemetry only). */
  delivery: Map<string, DeliveryTracker>;
  names: NameTally[];
  /** Attempts of workers that died, whose outcome nobody can know: lost to the harness. */
  lostToHarness: number;
  /** One line per worker that died, saying when and how. */
  workerFailures: string[];
}

export interface SecondEvent {
  bucket: TimelineBucket;
  connectedNow: number;
  planned: number;
}

/** Head start given to workers between "go" and the origin, so the first attempts start on time. */
const ORIGIN_LEAD_MS = 250;

interface WorkerState {
  index: number;
  child: ChildProcess;
  planned: number;
  done: boolean;
  inFlightAtEnd: number;
  health: WorkerHealth;
  lastSecond: number;
  /** Attempts this worker has reported (planned + reconnects) and outcomes it has reported. */
  attempts: number;
  outcomes: number;
  /** The worker's own last words when it failed ('fatal'), for the failure line. */
  fatal: string | null;
}

export class Coordinator extends EventEmitter {
  private readonly o: CoordinatorOptions;
  private readonly agg = new Aggregate();
  private workers: WorkerState[] = [];
  private abortInfo: { atMs: number; reason: string; kind: AbortKind } | null = null;
  private stopSent = false;
  private going = false;
  private healthSamples: RunOutcome['healthSamples'] = [];
  private reported = new Map<number, number>();
  private lostToHarness = 0;
  private readonly workerFailures: string[] = [];
  private forced = false;
  private readonly delivery = new Map<string, DeliveryTracker>();
  private names: NameTally[] = [];

  constructor(o: CoordinatorOptions) {
    super();
    this.o = o;
  }

  async run(): Promise<RunOutcome> {
    const count = this.o.workers;
    const ready: Promise<void>[] = [];
    const pooled = this.o.pool?.adopt(count) ?? null;
    for (let i = 0; i < count; i++) {
      const child = pooled?.[i]?.child ?? forkWorker(this.o.workerScript, this.o.workerArgs);
      const w: WorkerState = {
        index: i,
        child,
        planned: 0,
        done: false,
        inFlightAtEnd: 0,
        lastSecond: -1,
        attempts: 0,
        outcomes: 0,
        fatal: null,
        health: {
          worker: i,
          devices: 0,
          peakLoopDelayP99Us: 0,
          peakLoopUtilisation: 0,
          peakCpuPercent: 0,
          peakRssBytes: 0,
          peakOpenFiles: 0,
          peakScheduleLagUs: 0,
          exitedEarly: false,
          warmUp: null,
        },
      };
      this.workers.push(w);
      ready.push(
        new Promise<void>((resolve, reject) => {
          child.on('message', (m: FromWorker) => {
            if (m.type === 'ready') {
              w.planned = m.devices;
              w.health.devices = m.devices;
              // A worker that says nothing of a warm-up (an older one, a test's) had none.
              const warm = m.warmUp ?? null;
              w.health.warmUp =
                warm === null ? null : { handshakes: warm.handshakes, elapsedMs: Math.round(warm.elapsedMs) };
              resolve();
            } else if (m.type === 'fatal') {
              w.fatal = m.message.split('\n')[0] ?? m.message;
              reject(new Error(`worker ${i}: ${m.message}`));
            } else this.onWorkerMessage(w, m);
          });
          child.on('error', reject);
          const early = (code: number | null, signal: NodeJS.Signals | null): void =>
            reject(new Error(`worker ${i} exited before it was ready (${signal ?? `code ${code}`})`));
          child.once('close', early);
          // A worker forked ahead may have failed before anyone listened.
          const earlyError = pooled?.[i]?.earlyError ?? null;
          if (earlyError !== null) reject(earlyError);
          else if (child.exitCode !== null || child.signalCode !== null) early(child.exitCode, child.signalCode);
        }),
      );
      const init: ToWorker = {
        type: 'init',
        runId: this.o.runId,
        scenario: this.o.scenario,
        worker: { index: i, count },
        shard: this.o.shard,
        targets: this.o.targets,
        sourceIps: this.o.sourceIps,
        maxHandshakesInFlight: this.o.maxHandshakesInFlight,
        maxPacketBytes: this.o.maxPacketBytes,
        warmUp: this.o.warmUp ?? true,
      };
      child.send(init);
    }
    const allReady = Promise.all(ready);
    allReady.catch(() => {}); // awaited below; handled now so a worker failing during the warm-up is not unhandled
    // The coordinator's own once-a-second work, warmed while the workers warm theirs (metrics/warm-merge.ts):
    // for runs whose seconds hold thousands of connects; a small run's merge is cheap cold.
    if ((this.o.warmUp ?? true) && this.o.scenario.devices >= WARM_MERGE_MIN_DEVICES) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      warmMerge(
        this.o.scenario.cohorts.map((c) => c.name),
        count,
      );
    }
    try {
      await allReady;
    } catch (err) {
      for (const w of this.workers) w.child.kill('SIGKILL');
      throw err;
    }
    // The origin on the monotonic clock; with --start-at it is placed at the agreed wall time
    // (never in the past: a late shard starts at once and records how late it was).
    // One reading of the wall clock: a shard ready before --start-at records an offset of exactly 0.
    const wallNowMs = Date.now();
    const leadMs = Math.max(ORIGIN_LEAD_MS, this.o.startAtMs === null ? 0 : this.o.startAtMs - wallNowMs);
    const originNs = monotonicNowNs() + BigInt(Math.round(leadMs * 1000)) * 1_000n;
    const startedAtMs = wallNowMs + leadMs;
    this.o.onOrigin?.(originNs);
    // A worker is judged on 'close', not 'exit': 'exit' can come before the worker's last
    // messages have been read from the IPC channel, and a clean finish would look like a death.
    const finished = this.workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          w.child.on('close', (code, signal) => {
            if (!w.done) this.workerDied(w, code, signal);
            resolve();
          });
        }),
    );
    for (const w of this.workers) w.child.send({ type: 'go', originNs: originNs.toString() } satisfies ToWorker);
    this.going = true;
    // A stop asked for before the workers were told to go (an early Ctrl-C) is sent now.
    if (this.abortInfo !== null) this.sendStop();
    if (this.forced) this.forceStop();
    await Promise.all(finished);
    return {
      aggregate: this.agg,
      planned: this.workers.reduce((a, w) => a + w.planned, 0),
      inFlightAtEnd: this.workers.reduce((a, w) => a + w.inFlightAtEnd, 0),
      startedAtMs,
      endedAtMs: Date.now(),
      shard: this.o.shard,
      startAtMs: this.o.startAtMs,
      abort: this.abortInfo,
      workers: this.workers.map((w) => w.health),
      healthSamples: this.healthSamples,
      delivery: this.delivery,
      names: this.names,
      lostToHarness: this.lostToHarness,
      workerFailures: this.workerFailures,
    };
  }

  /**
   * A worker died (killed, out of memory): its devices are lost to the harness — never counted
   * as target errors — and the run stops or carries on as asked. Noticed at once through 'exit'.
   */
  private workerDied(w: WorkerState, code: number | null, signal: NodeJS.Signals | null): void {
    w.health.exitedEarly = true;
    const lost = Math.max(0, w.planned + w.attempts - w.outcomes);
    this.lostToHarness += lost;
    const t = this.workers.length > 0 ? Math.max(0, ...this.workers.map((x) => x.lastSecond)) + 1 : 0;
    const how = this.forced
      ? 'stopped by force'
      : `exited unexpectedly (${signal ?? `code ${code}`}${w.fatal === null ? '' : `: ${w.fatal}`})`;
    this.workerFailures.push(`worker ${w.index} ${how} near t=${t}s: ${lost} of its attempts lost to the harness`);
    if (this.forced) return;
    this.emit(
      'notice',
      `worker ${w.index} ${how}; ${this.o.onWorkerFailure === 'abort' ? 'stopping the run' : 'carrying on without it'}`,
    );
    if (this.o.onWorkerFailure === 'abort') this.abort(`worker ${w.index} ${how}`, 'worker-failed');
  }

  /** Running totals for live views (the Prometheus endpoint). */
  live(): {
    totals: Aggregate['totals'];
    errors: ReturnType<Aggregate['errorList']>;
    connectedNow: number;
    planned: number;
  } {
    return {
      totals: this.agg.totals,
      errors: this.agg.errorList(),
      connectedNow: this.agg.connectedNow(),
      planned: this.plannedHere(),
    };
  }

  /** Devices this run plans (a shard's slice, once its workers have said how many), not the whole scenario's. */
  private plannedHere(): number {
    const told = this.workers.reduce((a, w) => a + w.planned, 0);
    return told > 0 ? told : this.o.scenario.devices;
  }

  /** Stops the run early: workers stop scheduling and close their sessions (bounded). */
  abort(reason: string, kind: AbortKind = 'interrupted'): void {
    if (this.abortInfo === null) this.abortInfo = { atMs: Date.now(), reason, kind };
    this.sendStop();
  }

  /** A second request: stop waiting for graceful closes. */
  forceStop(): void {
    this.forced = true;
    if (!this.going) return; // applied when the workers are told to go
    for (const w of this.workers) if (!w.done) w.child.kill('SIGKILL');
  }

  private sendStop(): void {
    if (this.stopSent || !this.going) return;
    this.stopSent = true;
    for (const w of this.workers) {
      if (w.child.connected)
        w.child.send({ type: 'stop', reason: this.abortInfo?.reason ?? 'stop' } satisfies ToWorker);
    }
  }

  private onWorkerMessage(w: WorkerState, m: FromWorker): void {
    if (m.type !== 'metrics' && m.type !== 'done') return;
    this.agg.add(w.index, m.delta, m.health?.loopDelayP99Us ?? null, m.health?.rssBytes ?? null);
    const c = m.delta.counters;
    w.attempts += c.reconnects;
    w.outcomes += c.succeeded + c.failed + c.timedOut + c.dropped + c.offlineAttempts;
    if (m.health) this.noteHealth(w, m.delta.t, m.health);
    if (m.type === 'done') {
      w.done = true;
      w.inFlightAtEnd = m.inFlightAtEnd;
      w.outcomes += m.inFlightAtEnd;
      this.names = mergeNameTallies(this.names, m.names);
      for (const [cohort, st] of Object.entries(m.delivery)) {
        const t = this.delivery.get(cohort);
        if (t) t.mergeState(st);
        else this.delivery.set(cohort, DeliveryTracker.fromJSON(st));
      }
      // The final results are here: only now may the worker leave.
      if (w.child.connected) w.child.send({ type: 'bye' } satisfies ToWorker);
      return;
    }
    // Announce a second once every running worker has reported it.
    const n = (this.reported.get(m.delta.t) ?? 0) + 1;
    this.reported.set(m.delta.t, n);
    if (n >= this.workers.filter((x) => !x.done).length) {
      this.reported.delete(m.delta.t);
      const bucket = this.agg.bucketAt(m.delta.t);
      if (bucket) {
        const ev: SecondEvent = { bucket, connectedNow: this.agg.connectedNow(), planned: this.plannedHere() };
        this.emit('second', ev);
      }
    }
  }

  private noteHealth(w: WorkerState, t: number, s: HealthSample): void {
    const h = w.health;
    h.peakLoopDelayP99Us = Math.max(h.peakLoopDelayP99Us, s.loopDelayP99Us);
    h.peakLoopUtilisation = Math.max(h.peakLoopUtilisation, s.loopUtilisation);
    h.peakCpuPercent = Math.max(h.peakCpuPercent, s.cpuPercent);
    h.peakRssBytes = Math.max(h.peakRssBytes, s.rssBytes);
    h.peakOpenFiles = Math.max(h.peakOpenFiles, s.openFiles ?? 0);
    h.peakScheduleLagUs = Math.max(h.peakScheduleLagUs, s.scheduleLagMaxUs);
    w.lastSecond = t;
    this.healthSamples.push({ worker: w.index, t, sample: s });
  }
}
