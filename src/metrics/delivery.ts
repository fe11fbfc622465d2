/**
 * End-to-end delivery accounting (pure): for each stream — one publisher's messages as seen by one
 * receiver — counts delivered, duplicated, out-of-order and too-late messages with a fixed-size
 * sliding window bitmap of sequence numbers, and records delivery latency. Lost = sent − delivered
 * once publishers' sent counts are known. State is plain JSON and merges exactly across workers.
 *
 * A message whose sequence is older than the window (windowSize below the highest seen) cannot be
 * told apart from a duplicate; it is counted `tooLate` and never as delivered — for a device cloud a
 * message that late is as good as lost.
 */
import type { DeliveryCounts } from '../results/types.js';
import { createHistogram, decodeHistogram, encodeHistogram, recordUs, type Histogram } from './histogram.js';

export const DEFAULT_WINDOW = 1024;

/** One stream's state; `words` hold a ring of bits (seq mod window) for seqs [base, base + window). */
export interface StreamState {
  /** Highest seq received; -1 before any. */
  highest: number;
  base: number;
  words: number[];
  delivered: number;
  duplicated: number;
  outOfOrder: number;
  tooLate: number;
}

export interface DeliveryState {
  window: number;
  streams: Record<string, StreamState>;
  /** Messages publishers report having sent, per stream key. */
  sent: Record<string, number>;
  /** Payloads that were not herd's (no stamp): a target that rewrites or injects messages. */
  foreign: number;
  /** Latencies that came out negative (clock skew) and were clamped to 0. */
  negativeLatency: number;
  /** Encoded HDR histogram of delivery latency (µs), or null before any delivery. */
  latencyHistogram: string | null;
}

/** The counts results.json reports, plus how many streams (publishers) they cover. */
export type DeliverySummary = DeliveryCounts & { streams: number };

export type Arrival = 'delivered' | 'duplicate' | 'outOfOrder' | 'tooLate';

export class DeliveryTracker {
  readonly window: number;
  private readonly streams = new Map<string, StreamState>();
  private readonly sentBy = new Map<string, number>();
  private foreign = 0;
  private negativeLatency = 0;
  private latency: Histogram | null = null;

  constructor(window = DEFAULT_WINDOW) {
    if (!Number.isInteger(window) || window < 32 || window % 32 !== 0) throw new Error('window must be a positive multiple of 32');
    this.window = window;
  }

  /** A publisher sent `count` more messages on `stream` (sequences are 0, 1, 2, … per stream). */
  recordSent(stream: string, count = 1): void {
    this.sentBy.set(stream, (this.sentBy.get(stream) ?? 0) + count);
  }

  recordForeign(): void {
    this.foreign++;
  }

  /** One received message; `latencyUs` = receive time − stamped send time. */
  recordReceived(stream: string, seq: number, latencyUs: number): Arrival {
    let s = this.streams.get(stream);
    if (s === undefined) {
      s = { highest: -1, base: 0, words: new Array<number>(this.window / 32).fill(0), delivered: 0, duplicated: 0, outOfOrder: 0, tooLate: 0 };
      this.streams.set(stream, s);
    }
    const r = arrive(s, seq, this.window);
    if (r === 'delivered' || r === 'outOfOrder') {
      if (this.latency === null) this.latency = createHistogram();
      if (!recordUs(this.latency, latencyUs)) this.negativeLatency++;
    }
    return r;
  }

  toJSON(): DeliveryState {
    const streams: Record<string, StreamState> = {};
    for (const [k, s] of this.streams) streams[k] = { ...s, words: [...s.words] };
    return {
      window: this.window,
      streams,
      sent: Object.fromEntries(this.sentBy),
      foreign: this.foreign,
      negativeLatency: this.negativeLatency,
      latencyHistogram: this.latency === null ? null : encodeHistogram(this.latency),
    };
  }

  static fromJSON(st: DeliveryState): DeliveryTracker {
    const t = new DeliveryTracker(st.window);
    t.mergeState(st);
    return t;
  }

  /**
   * Adds another worker's state. Streams seen by only one side are copied; a stream both saw has
   * its windows united, and a seq both received counts as a duplicate.
   */
  mergeState(o: DeliveryState): void {
    if (o.window !== this.window) throw new Error(`cannot merge delivery windows ${o.window} and ${this.window}`);
    for (const [k, n] of Object.entries(o.sent)) this.sentBy.set(k, (this.sentBy.get(k) ?? 0) + n);
    for (const [k, other] of Object.entries(o.streams)) {
      const mine = this.streams.get(k);
      this.streams.set(k, mine === undefined ? { ...other, words: [...other.words] } : mergeStreams(mine, other, this.window));
    }
    this.foreign += o.foreign;
    this.negativeLatency += o.negativeLatency;
    if (o.latencyHistogram !== null) {
      const h = decodeHistogram(o.latencyHistogram);
      if (this.latency === null) this.latency = h;
      else {
        this.latency.add(h);
        h.destroy();
      }
    }
  }

  /** Totals. A stream without a sent count assumes its highest seq + 1 were sent (tail losses unseen). */
  summary(): DeliverySummary {
    const out: DeliverySummary = { streams: 0, sent: 0, delivered: 0, lost: 0, duplicated: 0, outOfOrder: 0, tooLate: 0, foreign: this.foreign };
    const keys = new Set([...this.streams.keys(), ...this.sentBy.keys()]);
    for (const k of keys) {
      const s = this.streams.get(k);
      const sent = this.sentBy.get(k) ?? (s === undefined ? 0 : s.highest + 1);
      const delivered = s?.delivered ?? 0;
      out.streams++;
      out.sent += sent;
      out.delivered += delivered;
      out.lost += Math.max(0, sent - delivered);
      out.duplicated += s?.duplicated ?? 0;
      out.outOfOrder += s?.outOfOrder ?? 0;
      out.tooLate += s?.tooLate ?? 0;
    }
    return out;
  }

  /** Delivery latency histogram (µs); null before any delivery. Owned by the tracker. */
  latencyHistogram(): Histogram | null {
    return this.latency;
  }
}

/** Bits live at seq mod window (a ring): moving the base only clears the seqs that leave. */
function bit(s: StreamState, seq: number, window: number): boolean {
  const i = seq % window;
  return (((s.words[i >> 5] as number) >>> (i & 31)) & 1) === 1;
}

function setBit(s: StreamState, seq: number, window: number): void {
  const i = seq % window;
  s.words[i >> 5] = ((s.words[i >> 5] as number) | (1 << (i & 31))) >>> 0;
}

/** Moves the window so `seq` is its newest slot; each seq is cleared once, so this is O(1) amortised. */
function slideTo(s: StreamState, seq: number, window: number): void {
  const newBase = seq - window + 1;
  if (newBase <= s.base) return;
  if (newBase - s.base >= window) s.words.fill(0);
  else {
    for (let q = s.base; q < newBase; q++) {
      const i = q % window;
      s.words[i >> 5] = ((s.words[i >> 5] as number) & ~(1 << (i & 31))) >>> 0;
    }
  }
  s.base = newBase;
}

function arrive(s: StreamState, seq: number, window: number): Arrival {
  if (seq < s.base) {
    s.tooLate++;
    return 'tooLate';
  }
  if (seq >= s.base + window) slideTo(s, seq, window);
  if (bit(s, seq, window)) {
    s.duplicated++;
    return 'duplicate';
  }
  setBit(s, seq, window);
  s.delivered++;
  if (seq < s.highest) {
    s.outOfOrder++;
    return 'outOfOrder';
  }
  s.highest = seq;
  return 'delivered';
}

function mergeStreams(a: StreamState, b: StreamState, window: number): StreamState {
  const out: StreamState = { ...a, words: [...a.words] };
  const top = Math.max(a.highest, b.highest);
  if (top >= out.base + window) slideTo(out, top, window);
  out.highest = top;
  out.duplicated += b.duplicated;
  out.outOfOrder += b.outOfOrder;
  out.tooLate += b.tooLate;
  out.delivered += b.delivered;
  for (let q = Math.max(b.base, out.base); q < b.base + window; q++) {
    if (!bit(b, q, window)) continue;
    if (bit(out, q, window)) {
      // Both workers received it: one delivery, one duplicate.
      out.delivered--;
      out.duplicated++;
    } else setBit(out, q, window);
  }
  return out;
}
