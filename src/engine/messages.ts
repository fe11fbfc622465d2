/** What crosses the coordinator ↔ worker boundary: plain JSON data only. */
import type { NameTally } from '../results/names.js';
import type { ResolvedScenario } from '../results/resolved-scenario.js';
import type { MetricsDelta } from '../metrics/recorder.js';
import type { HealthSample } from './health.js';
import type { DeliveryState } from '../metrics/delivery.js';
import type { WarmEngineSpec } from './warm-engine.js';

export interface WorkerInit {
  type: 'init';
  runId: string;
  scenario: ResolvedScenario;
  worker: { index: number; count: number };
  shard: { index: number; count: number };
  /** Per cohort, target URLs (mqtt://, mqtts://, ws://, wss://); device `id` uses `urls[id % urls.length]`. */
  targets: string[][];
  sourceIps: string[];
  /** 0 = no cap (open model). */
  maxHandshakesInFlight: number;
  maxPacketBytes: number;
  /** Warm the connect path against a throwaway loopback listener before reporting ready. */
  warmUp: boolean;
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

/** The coordinator has the worker's final message: the worker may now leave. */
export interface WorkerBye {
  type: 'bye';
}

/** Sent right after the fork, before the targets are known: start warming the connect path now. */
export interface WorkerWarm {
  type: 'warm';
  /** Warm the run's own engine too (warm-engine.ts); absent: the JavaScript MQTT path only. */
  engine?: WarmEngineSpec;
}

export type ToWorker = WorkerWarm | WorkerInit | WorkerGo | WorkerStop | WorkerBye;

export interface WorkerReady {
  type: 'ready';
  devices: number;
  /** What the warm-up did (null when it was off): handshakes and the time it took. */
  warmUp: { handshakes: number; elapsedMs: number } | null;
}

export interface WorkerMetrics {
  type: 'metrics';
  delta: MetricsDelta;
  health: HealthSample | null;
}

export interface WorkerDone {
  type: 'done';
  delta: MetricsDelta;
  health: HealthSample;
  planned: number;
  inFlightAtEnd: number;
  delivery: Record<string, DeliveryState>;
  names: NameTally[];
}

export interface WorkerFatal {
  type: 'fatal';
  message: string;
}

export type FromWorker = WorkerReady | WorkerMetrics | WorkerDone | WorkerFatal;
