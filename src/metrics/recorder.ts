/**
 * A worker's metric recorder. It accumulates one second's worth of deltas (histograms, counters,
 * errors, per-cohort and per-outage data) and hands them out as plain JSON data to send to the
 * coordinator, which alone keeps totals. Percentiles are never computed here.
 */
import type { ErrorOrigin, Failure } from '../results/types.js';
import { createHistogram, encodeHistogram, recordUs, type Histogram } from './histogram.js';
import type { LatencyKey } from './names.js';
import { ObservedRecorder, type ObservedDelta } from './observed-record.js';

export interface CounterDelta {
  started: number;
  succeeded: number;
  failed: number;
  timedOut: number;
  dropped: number;
  /** Attempts after the first one per device (after a failure, a drop or churn), started or dropped. */
  reconnects: number;
  /** Attempts made while the device's simulated network was down: never sent to the target. */
  offlineAttempts: number;
  /** Devices whose reconnect policy gave up (maxAttempts reached, or policy none after a loss). */
  gaveUp: number;
  /** Sessions ended by a planned outage. */
  outageDrops: number;
  /** Connected sessions lost without herd asking (peer close, reset, keepalive). */
  disconnects: number;
  /** Reconnects still waiting when teardown began. */
  reconnectsCancelled: number;
  /** Telemetry: messages published, received back (end to end), and refused locally (buffer or in-flight cap full). */
  messagesSent: number;
  messagesDelivered: number;
  messagesRefused: number;
  /** MQTT connects whose CONNACK said a session was already present (persistent sessions). */
  sessionPresent: number;
  /** Cloud → device requests sent by the requester, and answers that came back. */
  requestsSent: number;
  requestsAnswered: number;
  /** Values below zero clamped to 0 before recording (counted). */
  clampedNegative: number;
}

export interface CohortDelta {
  counters: Pick<CounterDelta, 'started' | 'succeeded' | 'failed' | 'timedOut'>;
  histograms: Partial<Record<LatencyKey, string>>;
  errors: Record<string, number>;
}

export interface OutageDelta {
  dropped: number;
  recovered: number;
  /** Hit devices a later outage hit again before they were back (injected outages; absent: 0). */
  interrupted?: number;
  /** µs from the outage's end until each recovered device was connected again. */
  recoveryUs?: string;
  /** Real (non-offline) attempts of each hit device: until back, or so far for one not back at the end. */
  attempts?: string;
}

/** One outage's counts in a recorder until its next delta. */
interface OutageCounts {
  dropped: number;
  recovered: number;
  interrupted: number;
  rec: HistogramSet<'recoveryUs' | 'attempts'>;
}

export interface MetricsDelta {
  /** The timeline second these deltas belong to. */
  t: number;
  counters: CounterDelta;
  /** Only series with samples in this delta are present. */
  histograms: Partial<Record<LatencyKey, string>>;
  /** "origin|phase|code" → count */
  errors: Record<string, number>;
  cohorts: Record<string, CohortDelta>;
  outages: Record<string, OutageDelta>;
  /** Observed outages (herd did not cause them) by the worker's own event number; absent when none changed. */
  observed?: Record<string, ObservedDelta>;
  /** MQTT 5 server signals by key ("DISCONNECT_96", "takenOver", …; issue 16); absent when none. */
  signals?: Record<string, number>;
  /** Counts by "name|cohort" (downlink and session replay, issue 16), summed by the coordinator; absent when none. */
  tallies?: Record<string, number>;
  /** Gauges at the end of the second, and the highest handshakes-in-flight seen within it. */
  connected: number;
  handshaking: number;
  peakHandshaking: number;
}

export function emptyCounters(): CounterDelta {
  return {
    started: 0,
    succeeded: 0,
    failed: 0,
    timedOut: 0,
    dropped: 0,
    reconnects: 0,
    offlineAttempts: 0,
    gaveUp: 0,
    outageDrops: 0,
    disconnects: 0,
    reconnectsCancelled: 0,
    clampedNegative: 0,
    messagesSent: 0,
    messagesDelivered: 0,
    messagesRefused: 0,
    sessionPresent: 0,
    requestsSent: 0,
    requestsAnswered: 0,
  };
}

export function errorKey(f: Failure): string {
  return `${f.origin}|${f.phase}|${f.code}`;
}

export function parseErrorKey(key: string): { origin: ErrorOrigin; phase: string; code: string } {
  const [origin, phase, code] = key.split('|');
  return { origin: origin as ErrorOrigin, phase: phase ?? '', code: code ?? '' };
}

/** Histograms that are only touched when recorded, encoded and reset on flush. */
class HistogramSet<K extends string> {
  private readonly hist = new Map<K, { h: Histogram; touched: boolean }>();
  /** The keys recorded since the last flush, in the order first recorded (one lookup per record, no set). */
  private readonly touched: K[] = [];
  clamped = 0;

  record(key: K, valueUs: number): void {
    let e = this.hist.get(key);
    if (!e) {
      e = { h: createHistogram(), touched: false };
      this.hist.set(key, e);
    }
    if (!recordUs(e.h, valueUs)) this.clamped++;
    if (!e.touched) {
      e.touched = true;
      this.touched.push(key);
    }
  }

  flush(): Partial<Record<K, string>> {
    const out: Partial<Record<K, string>> = {};
    for (const k of this.touched) {
      const e = this.hist.get(k) as { h: Histogram; touched: boolean };
      out[k] = encodeHistogram(e.h);
      e.h.reset();
      e.touched = false;
    }
    this.touched.length = 0;
    return out;
  }
}

class CohortRecorder {
  counters = { started: 0, succeeded: 0, failed: 0, timedOut: 0 };
  readonly hist = new HistogramSet<LatencyKey>();
  errors = new Map<string, number>();
}

export class Recorder {
  private readonly hist = new HistogramSet<LatencyKey>();
  counters: CounterDelta = emptyCounters();
  private errors = new Map<string, number>();
  private signals = new Map<string, number>();
  private tallies = new Map<string, number>();
  private readonly cohorts: CohortRecorder[];
  private readonly cohortNames: readonly string[];
  private outages = new Map<number, OutageCounts>();
  readonly observed = new ObservedRecorder();
  private peakHandshaking = 0;
  /** The second events are currently attributed to, and finished seconds waiting to be sent. */
  private second = 0;
  private readonly ready: MetricsDelta[] = [];

  constructor(cohortNames: readonly string[] = ['default']) {
    this.cohortNames = cohortNames;
    this.cohorts = cohortNames.map(() => new CohortRecorder());
  }

  record(key: LatencyKey, valueUs: number, cohort = -1): void {
    this.hist.record(key, valueUs);
    if (cohort >= 0) this.cohorts[cohort]?.hist.record(key, valueUs);
  }

  count(what: 'started' | 'succeeded' | 'failed' | 'timedOut', cohort: number): void {
    this.counters[what]++;
    const c = this.cohorts[cohort];
    if (c) c.counters[what]++;
  }

  error(f: Failure, cohort = -1): void {
    const k = errorKey(f);
    this.errors.set(k, (this.errors.get(k) ?? 0) + 1);
    const c = this.cohorts[cohort];
    if (c) c.errors.set(k, (c.errors.get(k) ?? 0) + 1);
  }

  /** A server signal a device acted on (or refused to), counted by key (src/engine/steering.ts). */
  signal(key: string): void {
    this.signals.set(key, (this.signals.get(key) ?? 0) + 1);
  }

  /** Adds `n` to the count `name` of cohort `cohort` (see MetricsDelta.tallies). */
  tally(name: string, cohort: number, n = 1): void {
    const key = `${name}|${this.cohortNames[cohort] ?? 'default'}`;
    this.tallies.set(key, (this.tallies.get(key) ?? 0) + n);
  }

  outageDropped(outage: number): void {
    this.outage(outage).dropped++;
  }

  outageRecovered(outage: number, recoveryUs: number, attempts: number): void {
    const o = this.outage(outage);
    o.recovered++;
    o.rec.record('recoveryUs', recoveryUs);
    o.rec.record('attempts', attempts);
  }

  /**
   * A hit device not back when the run ended (or hit again first): its attempts so far join the
   * sample, so a device still retrying weighs on reconnect.attempts.* instead of leaving it.
   */
  outageNotBack(outage: number, attempts: number): void {
    this.outage(outage).rec.record('attempts', attempts);
  }

  /** A hit device that a later outage hit again before it was back: not back here, and said why. */
  outageInterrupted(outage: number, attempts: number): void {
    this.outage(outage).interrupted++;
    this.outageNotBack(outage, attempts);
  }

  noteHandshaking(n: number): void {
    if (n > this.peakHandshaking) this.peakHandshaking = n;
  }

  /**
   * Attributes what follows to the second `nowUs` falls in: when that second is later than the
   * current one, the current second is finished (with the gauges as they stand) and queued. Call
   * before recording anything, with the event's own time, so an event is never counted in the
   * second before it happened however late the per-second timer fires.
   */
  advance(nowUs: number, connected: number, handshaking: number): void {
    // An int32, so optimised code stores it as the small integer `second` was (a float from Math.floor
    // alone deoptimised the storm's connect path at its first second boundary; seconds fit for 68 years).
    const s = Math.floor(nowUs / 1e6) | 0;
    if (s <= this.second) return;
    this.ready.push(this.flush(this.second, connected, handshaking));
    this.second = s;
  }

  /** Finished seconds, oldest first. */
  takeReady(): MetricsDelta[] {
    return this.ready.splice(0, this.ready.length);
  }

  /** Finishes the current second now (end of run). */
  finishCurrent(connected: number, handshaking: number): MetricsDelta {
    return this.flush(this.second, connected, handshaking);
  }

  /** Takes the accumulated deltas and starts a fresh second. */
  flush(t: number, connected: number, handshaking: number): MetricsDelta {
    const cohorts: Record<string, CohortDelta> = {};
    this.cohorts.forEach((c, i) => {
      if (c.counters.started === 0 && c.errors.size === 0 && c.counters.succeeded === 0) return;
      cohorts[this.cohortNames[i] as string] = {
        counters: c.counters,
        histograms: c.hist.flush(),
        errors: Object.fromEntries(c.errors),
      };
      c.counters = { started: 0, succeeded: 0, failed: 0, timedOut: 0 };
      c.errors = new Map();
    });
    const outages: Record<string, OutageDelta> = {};
    for (const [i, o] of this.outages) {
      const h = o.rec.flush();
      outages[String(i)] = { dropped: o.dropped, recovered: o.recovered, interrupted: o.interrupted, ...h };
    }
    this.outages.clear();
    this.counters.clampedNegative += this.hist.clamped + this.observed.clamped;
    this.hist.clamped = 0;
    this.observed.clamped = 0;
    const observed = this.observed.flush();
    const delta: MetricsDelta = {
      t,
      counters: this.counters,
      histograms: this.hist.flush(),
      errors: Object.fromEntries(this.errors),
      cohorts,
      outages,
      connected,
      handshaking,
      peakHandshaking: Math.max(this.peakHandshaking, handshaking),
    };
    if (observed !== null) delta.observed = observed;
    if (this.signals.size > 0) {
      delta.signals = Object.fromEntries(this.signals);
      this.signals = new Map();
    }
    if (this.tallies.size > 0) {
      delta.tallies = Object.fromEntries(this.tallies);
      this.tallies = new Map();
    }
    this.counters = emptyCounters();
    this.errors.clear();
    this.peakHandshaking = handshaking;
    return delta;
  }

  private outage(i: number): OutageCounts {
    let o = this.outages.get(i);
    if (!o) {
      o = { dropped: 0, recovered: 0, interrupted: 0, rec: new HistogramSet() };
      this.outages.set(i, o);
    }
    return o;
  }
}
