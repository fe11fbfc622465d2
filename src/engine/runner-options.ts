/**
 * What a Runner is given and what it hands back at the end (apart from runner.ts so the device
 * table can read the options without importing the runner).
 */
import type { Device, DeviceKindRow, DeviceOwner } from '../protocols/device.js';
import type { DeviceKindTable } from '../protocols/kinds.js';
import type { MetricsDelta } from '../metrics/recorder.js';
import type { Plan } from '../plan/plan.js';
import type { ResolvedScenario } from '../results/resolved-scenario.js';
import type { EngineClock } from '../util/clock.js';
import { nativeBehind, nativeWake } from '../protocols/native/core.js';
import type { HealthMonitor, HealthSample } from './health.js';
import type { PreciseWake } from './scheduler.js';
import type { RunKept, SessionListener } from './session-life.js';

/** Per cohort: its device kind's row, and the kind's own open options of one device (prepared once). */
export type PreparedKinds = { row: DeviceKindRow; own: (id: number, slot: number) => object }[];

export interface RunnerOptions {
  runId: string;
  workerIndex: number;
  scenario: ResolvedScenario;
  plan: Plan;
  /** Global device ids of this worker, in intended-time order. */
  ids: Uint32Array;
  targets: readonly (readonly string[])[];
  sourceIps: readonly string[];
  /** Workers on this machine (default 1): each binds from its own slice of the ephemeral ports. */
  workerCount?: number;
  /** The ports the workers split (default: the kernel's ip_local_port_range). */
  sourcePortRange?: readonly [number, number];
  /** i − 1 of --shard i/N (default 0). */
  shardIndex?: number;
  /** N of --shard i/N (default 1): source addresses are spread by a device's rank in its shard. */
  shardCount?: number;
  maxHandshakesInFlight: number;
  maxPacketBytes: number;
  /** The run clock and timers (a fake one in tests). */
  clock: EngineClock;
  /** Opens a device (default: the cohort's protocol over its transport); tests pass in-process fakes. */
  open?: (slot: number, owner: DeviceOwner) => Device;
  /** The table of device kinds (default: protocols/kinds.ts); a test may add a kind of its own. */
  kinds?: DeviceKindTable;
  /** The cohorts' kinds prepared (and their devices prebuilt) before the run: device-table.ts prepareKinds. */
  preparedKinds?: PreparedKinds | undefined;
  /** The harness's self-watch (default: HealthMonitor). */
  health?: Pick<HealthMonitor, 'start' | 'stop' | 'sample'>;
  /**
   * The scheduler's µs wake-up for the Runner (the owner of its devices): the native addon's timerfd
   * (default: none — the clock's ms timers, as a fake clock's tests need).
   */
  preciseWake?: ((owner: DeviceOwner) => PreciseWake) | undefined;
  /**
   * Whether the owner's devices left socket events unread in the last loop turn (the native core
   * reads a bounded number per turn): judgements that need everything read wait (default: never).
   */
  socketsBehind?: ((owner: DeviceOwner) => boolean) | undefined;
  /** More session listeners, told after the engine's own (a test watches a session's life through one). */
  listeners?: readonly SessionListener[];
  /** Health is sampled once per timer tick: only the last delta of a tick carries it. */
  emit(delta: MetricsDelta, health: HealthSample | null): void;
}

export interface RunEnd extends RunKept {
  inFlightAtEnd: number;
  delta: MetricsDelta;
  health: HealthSample;
}

/** What a worker gives each Runner it makes: the run's, or the warm-up's (warm-engine.ts). */
export type WorkerRunnerFields = Pick<
  RunnerOptions,
  | 'runId'
  | 'workerIndex'
  | 'scenario'
  | 'plan'
  | 'ids'
  | 'targets'
  | 'sourceIps'
  | 'maxHandshakesInFlight'
  | 'maxPacketBytes'
  | 'clock'
  | 'emit'
> & {
  workerCount: number;
  shardIndex: number;
  shardCount: number;
  listeners: readonly SessionListener[];
  preparedKinds?: PreparedKinds | undefined;
};

/**
 * A worker's Runner options, made in this one place so that the warm-up's Runner and the run's have
 * objects of one shape: code V8 optimised during the warm-up stays valid for the run.
 */
export function workerRunnerOptions(f: WorkerRunnerFields): RunnerOptions {
  return {
    runId: f.runId,
    workerIndex: f.workerIndex,
    workerCount: f.workerCount,
    scenario: f.scenario,
    plan: f.plan,
    ids: f.ids,
    targets: f.targets,
    sourceIps: f.sourceIps,
    shardIndex: f.shardIndex,
    shardCount: f.shardCount,
    maxHandshakesInFlight: f.maxHandshakesInFlight,
    maxPacketBytes: f.maxPacketBytes,
    clock: f.clock,
    listeners: f.listeners,
    emit: f.emit,
    // Always present (undefined for the warm-up's Runner): one shape for both.
    preparedKinds: f.preparedKinds,
    preciseWake: workerWake(f.scenario),
    socketsBehind: f.scenario.cohorts.every((c) => c.device.engine === 'js') ? undefined : nativeBehind,
  };
}

/**
 * A worker's µs wake-up: the native addon's timerfd (src/protocols/native/core.ts) for every run but
 * one that put all its devices on the JavaScript path (engine: js everywhere, or HERD_NATIVE=0, which
 * keeps the addon out of the run), so a ws:// target or QoS 2 messaging is started on time too.
 */
export function workerWake(s: Pick<ResolvedScenario, 'cohorts'>): RunnerOptions['preciseWake'] {
  return s.cohorts.every((c) => c.device.engine === 'js') ? undefined : nativeWake;
}
