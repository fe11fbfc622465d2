/**
 * A worker's metric recorder. It accumulates one second's worth of deltas (histograms, counters,
 * errors) and hands them out as plain JSON data to send to the coordinator, which alone keeps
 * totals. Percentiles are never computed here (MEASUREMENT.md rule 8).
 */
import type { ErrorOrigin } from '../report/results-types.js';
import type { Failure } from '../protocols/classify.js';
import { createHistogram, encodeHistogram, recordUs, type Histogram } from './histogram.js';
import { LATENCY_KEYS, type LatencyKey } from './names.js';

export interface CounterDelta {
  started: number;
  succeeded: number;
  failed: number;
  timedOut: number;
  dropped: number;
  disconnects: number;
  /** Values below zero clamped to 0 before recording (counted, MEASUREMENT.md rule 7). */
  clampedNegative: number;
}

export interface MetricsDelta {
  /** The timeline second these deltas belong to. */
  t: number;
  counters: CounterDelta;
  /** Only series with samples in this delta are present. */
  histograms: Partial<Record<LatencyKey, string>>;
  /** "origin|phase|code" → count */
  errors: Record<string, number>;
  /** Gauges at the end of the second. */
  connected: number;
  handshaking: number;
}

export function emptyCounters(): CounterDelta {
  return { started: 0, succeeded: 0, failed: 0, timedOut: 0, dropped: 0, disconnects: 0, clampedNegative: 0 };
}

export function errorKey(f: Failure): string {
  return `${f.origin}|${f.phase}|${f.code}`;
}

export function parseErrorKey(key: string): { origin: ErrorOrigin; phase: string; code: string } {
  const [origin, phase, code] = key.split('|');
  return { origin: origin as ErrorOrigin, phase: phase ?? '', code: code ?? '' };
}

export class Recorder {
  private hist = new Map<LatencyKey, Histogram>();
  private touched = new Set<LatencyKey>();
  counters: CounterDelta = emptyCounters();
  private errors = new Map<string, number>();

  constructor() {
    for (const k of LATENCY_KEYS) this.hist.set(k, createHistogram());
  }

  record(key: LatencyKey, valueUs: number): void {
    if (!recordUs(this.hist.get(key) as Histogram, valueUs)) this.counters.clampedNegative++;
    this.touched.add(key);
  }

  error(f: Failure): void {
    const k = errorKey(f);
    this.errors.set(k, (this.errors.get(k) ?? 0) + 1);
  }

  /** Takes the accumulated deltas and starts a fresh second. */
  flush(t: number, connected: number, handshaking: number): MetricsDelta {
    const histograms: Partial<Record<LatencyKey, string>> = {};
    for (const k of this.touched) {
      const h = this.hist.get(k) as Histogram;
      histograms[k] = encodeHistogram(h);
      h.reset();
    }
    this.touched.clear();
    const delta: MetricsDelta = {
      t,
      counters: this.counters,
      histograms,
      errors: Object.fromEntries(this.errors),
      connected,
      handshaking,
    };
    this.counters = emptyCounters();
    this.errors.clear();
    return delta;
  }
}
