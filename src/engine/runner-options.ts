/**
 * What a Runner is given and what it hands back at the end (apart from runner.ts so the device
 * table can read the options without importing the runner).
 */
import type { Device, DeviceOwner } from '../protocols/device.js';
import type { DeviceKindTable } from '../protocols/kinds.js';
import type { DeliveryState } from '../metrics/delivery.js';
import type { MetricsDelta } from '../metrics/recorder.js';
import type { Plan } from '../plan/plan.js';
import type { ResolvedScenario } from '../results/resolved-scenario.js';
import type { EngineClock } from '../util/clock.js';
import type { HealthMonitor, HealthSample } from './health.js';

export interface RunnerOptions {
  runId: string;
  workerIndex: number;
  scenario: ResolvedScenario;
  plan: Plan;
  /** Global device ids of this worker, in intended-time order. */
  ids: Uint32Array;
  targets: readonly (readonly string[])[];
  sourceIps: readonly string[];
  maxHandshakesInFlight: number;
  maxPacketBytes: number;
  /** The run clock and timers (a fake one in tests). */
  clock: EngineClock;
  /** Opens a device (default: the cohort's protocol over its transport); tests pass in-process fakes. */
  open?: (slot: number, owner: DeviceOwner) => Device;
  /** The table of device kinds (default: protocols/kinds.ts); a test may add a kind of its own. */
  kinds?: DeviceKindTable;
  /** The harness's self-watch (default: HealthMonitor). */
  health?: Pick<HealthMonitor, 'start' | 'stop' | 'sample'>;
  /** Health is sampled once per timer tick: only the last delta of a tick carries it. */
  emit(delta: MetricsDelta, health: HealthSample | null): void;
}

/** What the session listeners kept for the run's end (SessionListener.finish adds it). */
export interface RunKept {
  /** Per cohort with echo telemetry: end-to-end delivery state. */
  delivery: Record<string, DeliveryState>;
}

export interface RunEnd extends RunKept {
  inFlightAtEnd: number;
  delta: MetricsDelta;
  health: HealthSample;
}
