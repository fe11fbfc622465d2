/** What crosses the coordinator ↔ worker boundary: plain JSON data only (STYLE.md #7). */
import type { ResolvedScenario } from '../scenario/resolve.js';
import type { MetricsDelta } from '../metrics/recorder.js';
import type { HealthSample } from './health.js';

export interface WorkerInit {
  type: 'init';
  runId: string;
  scenario: ResolvedScenario;
  worker: { index: number; count: number };
  shard: { index: number; count: number };
  /** Target endpoints; device `id` uses endpoint `id % targets.length`. */
  targets: { host: string; port: number }[];
  sourceIps: string[];
  /** 0 = no cap (open model). */
  maxHandshakesInFlight: number;
  maxPacketBytes: number;
}

export interface WorkerGo {
  type: 'go';
  /** Run origin on the monotonic clock, as a decimal string of nanoseconds. */
  originNs: string;
}

export interface WorkerStop {
  type: 'stop';
  reason: string;
}

export type ToWorker = WorkerInit | WorkerGo | WorkerStop;

export interface WorkerReady {
  type: 'ready';
  devices: number;
}

export interface WorkerMetrics {
  type: 'metrics';
  delta: MetricsDelta;
  health: HealthSample;
}

export interface WorkerDone {
  type: 'done';
  delta: MetricsDelta;
  health: HealthSample;
  planned: number;
  inFlightAtEnd: number;
}

export interface WorkerFatal {
  type: 'fatal';
  message: string;
}

export type FromWorker = WorkerReady | WorkerMetrics | WorkerDone | WorkerFatal;
