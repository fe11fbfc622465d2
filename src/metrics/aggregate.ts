/**
 * The coordinator's merge of worker deltas: histograms are added, counters
 * summed per aligned one-second bucket, percentiles computed once at the end. Also used by
 * `herd merge` over shards.
 */
import {
  ERROR_ORIGINS,
  type ErrorCount,
  type ErrorOrigin,
  type LatencySummary,
  type TimelineBucket,
} from '../results/types.js';
import { addEncoded, createHistogram, encodeHistogram, summarize, type Histogram } from './histogram.js';
import { LATENCY_KEYS, type LatencyKey } from './names.js';
import type { ObservedPart } from './observed-merge.js';
import {
  emptyCounters,
  parseErrorKey,
  type CohortDelta,
  type CounterDelta,
  type MetricsDelta,
  type OutageDelta,
} from './recorder.js';

interface Bucket {
  counters: CounterDelta;
  errorsByOrigin: Record<ErrorOrigin, number>;
  /** Encoded connect.total deltas; decoded one bucket at a time at the end. */
  connectTotal: string[];
  /** Gauges per source (worker or shard). */
  connected: Map<number, number>;
  handshaking: Map<number, number>;
  loopDelayP99Us: number | null;
  peakHandshaking: Map<number, number>;
  rss: Map<number, number>;
}

export interface CohortTotals {
  counters: CohortDelta['counters'];
  hist: Map<LatencyKey, Histogram>;
  errors: Map<string, number>;
}

export interface OutageTotals {
  dropped: number;
  recovered: number;
  /** Injected outages: hit devices a later outage hit again before they were back. */
  interrupted?: number;
  recoveryUs: Histogram;
  attempts: Histogram;
}

export function zeroByOrigin(): Record<ErrorOrigin, number> {
  return Object.fromEntries(ERROR_ORIGINS.map((o) => [o, 0])) as Record<ErrorOrigin, number>;
}

export class Aggregate {
  readonly totals: CounterDelta = emptyCounters();
  private readonly hist = new Map<LatencyKey, Histogram>();
  private readonly errors = new Map<string, number>();
  /** MQTT 5 server signals by key (issue 16). */
  readonly signals = new Map<string, number>();
  /** Counts by "name|cohort" (downlink and session replay). */
  readonly tallies = new Map<string, number>();
  private readonly buckets = new Map<number, Bucket>();
  readonly cohorts = new Map<string, CohortTotals>();
  readonly outages = new Map<number, OutageTotals>();
  /** Observed outages by "source/event" (each worker numbers its own); joined by mergeObservedOutages. */
  readonly observed = new Map<string, ObservedPart>();

  constructor() {
    for (const k of LATENCY_KEYS) this.hist.set(k, createHistogram());
  }

  add(source: number, d: MetricsDelta, loopDelayP99Us: number | null = null, rssBytes: number | null = null): void {
    const b = this.bucket(d.t);
    for (const k of Object.keys(d.counters) as (keyof CounterDelta)[]) {
      this.totals[k] += d.counters[k];
      b.counters[k] += d.counters[k];
    }
    for (const [k, encoded] of Object.entries(d.histograms) as [LatencyKey, string][]) {
      addEncoded(this.hist.get(k) as Histogram, encoded);
      if (k === 'connect.total') b.connectTotal.push(encoded);
    }
    for (const [key, n] of Object.entries(d.errors)) {
      this.errors.set(key, (this.errors.get(key) ?? 0) + n);
      b.errorsByOrigin[parseErrorKey(key).origin] += n;
    }
    for (const [key, n] of Object.entries(d.signals ?? {})) this.signals.set(key, (this.signals.get(key) ?? 0) + n);
    for (const [key, n] of Object.entries(d.tallies ?? {})) this.tallies.set(key, (this.tallies.get(key) ?? 0) + n);
    for (const [name, c] of Object.entries(d.cohorts ?? {})) this.addCohort(name, c);
    for (const [i, o] of Object.entries(d.outages ?? {})) this.addOutage(Number(i), o);
    for (const [i, o] of Object.entries(d.observed ?? {})) {
      const key = `${source}/${i}`;
      let t = this.observed.get(key);
      if (!t) {
        t = { atUs: o.atUs, acceptedUs: null, ...emptyOutage() };
        this.observed.set(key, t);
      }
      t.acceptedUs = o.acceptedUs;
      addOutageDelta(t, o);
    }
    b.peakHandshaking.set(source, Math.max(b.peakHandshaking.get(source) ?? 0, d.peakHandshaking ?? d.handshaking));
    b.connected.set(source, d.connected);
    b.handshaking.set(source, d.handshaking);
    if (rssBytes !== null) b.rss.set(source, rssBytes);
    if (loopDelayP99Us !== null) b.loopDelayP99Us = Math.max(b.loopDelayP99Us ?? 0, loopDelayP99Us);
  }

  private addCohort(name: string, c: CohortDelta): void {
    let t = this.cohorts.get(name);
    if (!t) {
      t = { counters: { started: 0, succeeded: 0, failed: 0, timedOut: 0 }, hist: new Map(), errors: new Map() };
      this.cohorts.set(name, t);
    }
    for (const k of Object.keys(c.counters) as (keyof CohortDelta['counters'])[]) t.counters[k] += c.counters[k];
    for (const [k, e] of Object.entries(c.histograms) as [LatencyKey, string][]) {
      let h = t.hist.get(k);
      if (!h) {
        h = createHistogram();
        t.hist.set(k, h);
      }
      addEncoded(h, e);
    }
    for (const [k, n] of Object.entries(c.errors)) t.errors.set(k, (t.errors.get(k) ?? 0) + n);
  }

  private addOutage(i: number, o: OutageDelta): void {
    let t = this.outages.get(i);
    if (!t) {
      t = emptyOutage();
      this.outages.set(i, t);
    }
    addOutageDelta(t, o);
  }

  /** Connected devices right now, summing each source's latest gauge. */
  connectedNow(): number {
    const latest = new Map<number, number>();
    for (const t of [...this.buckets.keys()].sort((a, b) => a - b)) {
      for (const [src, v] of (this.buckets.get(t) as Bucket).connected) latest.set(src, v);
    }
    let sum = 0;
    for (const v of latest.values()) sum += v;
    return sum;
  }

  latency(): Record<LatencyKey, LatencySummary> {
    const out = {} as Record<LatencyKey, LatencySummary>;
    for (const k of LATENCY_KEYS) out[k] = summarize(this.hist.get(k) as Histogram);
    return out;
  }

  errorList(): ErrorCount[] {
    return [...this.errors.entries()]
      .map(([key, count]) => ({ ...parseErrorKey(key), count }))
      .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
  }

  bucketAt(t: number): TimelineBucket | null {
    return this.buckets.has(t) ? this.render(t, new Map(), new Map()) : null;
  }

  /** The timeline from second 0 to the last bucket, gauges carried forward per source. */
  timeline(): TimelineBucket[] {
    const ts = [...this.buckets.keys()];
    if (ts.length === 0) return [];
    const last = Math.max(...ts);
    const conn = new Map<number, number>();
    const hs = new Map<number, number>();
    const rss = new Map<number, number>();
    const out: TimelineBucket[] = [];
    for (let t = 0; t <= last; t++) out.push(this.render(t, conn, hs, rss));
    return out;
  }

  private render(
    t: number,
    conn: Map<number, number>,
    hs: Map<number, number>,
    rss: Map<number, number> = new Map(),
  ): TimelineBucket {
    const b = this.buckets.get(t);
    if (b) {
      for (const [s, v] of b.rss) rss.set(s, v);
      for (const [s, v] of b.connected) conn.set(s, v);
      for (const [s, v] of b.handshaking) hs.set(s, v);
    }
    let pct: { p50: number; p90: number; p99: number; max: number; encoded: string } | null = null;
    if (b && b.connectTotal.length > 0) {
      const h = createHistogram();
      for (const e of b.connectTotal) addEncoded(h, e);
      pct = {
        p50: h.getValueAtPercentile(50),
        p90: h.getValueAtPercentile(90),
        p99: h.getValueAtPercentile(99),
        max: h.maxValue,
        // Kept so shards can be merged with exact per-second percentiles.
        encoded: encodeHistogram(h),
      };
      h.destroy();
    }
    const c = b?.counters ?? emptyCounters();
    return {
      t,
      attempts: c.started,
      succeeded: c.succeeded,
      failed: c.failed,
      timedOut: c.timedOut,
      dropped: c.dropped,
      disconnects: c.disconnects,
      connected: sum(conn),
      handshaking: sum(hs),
      errorsByOrigin: b ? { ...b.errorsByOrigin } : zeroByOrigin(),
      connectP50Us: pct?.p50 ?? null,
      connectP90Us: pct?.p90 ?? null,
      connectP99Us: pct?.p99 ?? null,
      connectMaxUs: pct?.max ?? null,
      loopDelayP99Us: b?.loopDelayP99Us ?? null,
      reconnects: c.reconnects,
      offlineAttempts: c.offlineAttempts,
      peakHandshaking: b ? sum(b.peakHandshaking) : 0,
      connectHistogram: pct?.encoded ?? null,
      harnessRssBytes: rss.size === 0 ? null : sum(rss),
      messagesSent: c.messagesSent,
      messagesDelivered: c.messagesDelivered,
    };
  }

  private bucket(t: number): Bucket {
    let b = this.buckets.get(t);
    if (!b) {
      b = {
        counters: emptyCounters(),
        errorsByOrigin: zeroByOrigin(),
        connectTotal: [],
        connected: new Map(),
        handshaking: new Map(),
        loopDelayP99Us: null,
        peakHandshaking: new Map(),
        rss: new Map(),
      };
      this.buckets.set(t, b);
    }
    return b;
  }
}

function emptyOutage(): OutageTotals {
  return { dropped: 0, recovered: 0, interrupted: 0, recoveryUs: createHistogram(), attempts: createHistogram() };
}

function addOutageDelta(t: OutageTotals, o: OutageDelta): void {
  t.dropped += o.dropped;
  t.recovered += o.recovered;
  t.interrupted = (t.interrupted ?? 0) + (o.interrupted ?? 0);
  if (o.recoveryUs !== undefined) addEncoded(t.recoveryUs, o.recoveryUs);
  if (o.attempts !== undefined) addEncoded(t.attempts, o.attempts);
}

function sum(m: Map<number, number>): number {
  let s = 0;
  for (const v of m.values()) s += v;
  return s;
}
