/**
 * End-to-end delivery accounting (pure): for each stream — one publisher's messages as seen by one
 * receiver — counts delivered, duplicated, out-of-order and too-late messages with a fixed-size
 * sliding window bitmap of sequence numbers, and records delivery latency. Lost = sent − delivered
 * once publishers' sent counts are known. State is plain JSON and merges exactly across workers.
 *
 * Who lost a message (issue 24): the publisher reports each PUBACK/PUBCOMP (`recordAcked`) and each
 * publish it dropped itself (`recordDropped`). A lost message the target acknowledged was lost by the
 * cloud; one it never acknowledged (in flight when the session died, or QoS 0) is counted apart, so
 * published = delivered + lostByCloud + neverAcknowledged + droppedByDevice, per stream.
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
  /** Acknowledged seqs, the same ring as `words` (absent in states from before issue 24). */
  acks?: number[];
  /** Seqs the target acknowledged (PUBACK / PUBCOMP), once each. */
  acked?: number;
  /** Of those, delivered too. */
  ackedDelivered?: number;
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
  /** Publishes the device dropped itself (never sent), per stream key. */
  dropped?: Record<string, number>;
  /** Payloads that were not herd's (no stamp): a target that rewrites or injects messages. */
  foreign: number;
  /** Latencies that came out negative (clock skew) and were clamped to 0. */
  negativeLatency: number;
  /** Encoded HDR histogram of delivery latency (µs), or null before any delivery. */
  latencyHistogram: string | null;
}

/** The counts results.json reports, plus how many streams (publishers) they cover. */
export type DeliverySummary = DeliveryCounts & { streams: number };

const newStream = (window: number): StreamState => ({
  highest: -1,
  base: 0,
  words: new Array<number>(window / 32).fill(0),
  delivered: 0,
  duplicated: 0,
  outOfOrder: 0,
  tooLate: 0,
  acks: new Array<number>(window / 32).fill(0),
  acked: 0,
  ackedDelivered: 0,
});

export type Arrival = 'delivered' | 'duplicate' | 'outOfOrder' | 'tooLate';

export class DeliveryTracker {
  readonly window: number;
  private readonly streams = new Map<string, StreamState>();
  private readonly sentBy = new Map<string, number>();
  private readonly droppedBy = new Map<string, number>();
  private foreign = 0;
  private negativeLatency = 0;
  private latency: Histogram | null = null;

  constructor(window = DEFAULT_WINDOW) {
    if (!Number.isInteger(window) || window < 32 || window % 32 !== 0)
      throw new Error('window must be a positive multiple of 32');
    this.window = window;
  }

  /** A publisher sent `count` more messages on `stream` (sequences are 0, 1, 2, … per stream). */
  recordSent(stream: string, count = 1): void {
    this.sentBy.set(stream, (this.sentBy.get(stream) ?? 0) + count);
  }

  /** The publisher dropped a message of `stream` itself: never sent (refused, queue overflow, no store). */
  recordDropped(stream: string, count = 1): void {
    this.droppedBy.set(stream, (this.droppedBy.get(stream) ?? 0) + count);
  }

  /**
   * The target acknowledged `seq` of `stream` (PUBACK / PUBCOMP). An ack older than the window
   * cannot be matched with its delivery any more: it counts acknowledged, not delivered.
   */
  recordAcked(stream: string, seq: number): void {
    let s = this.streams.get(stream);
    if (s === undefined) {
      s = newStream(this.window);
      this.streams.set(stream, s);
    }
    ack(s, seq, this.window);
  }

  recordForeign(): void {
    this.foreign++;
  }

  /** One received message; `latencyUs` = receive time − stamped send time. */
  recordReceived(stream: string, seq: number, latencyUs: number): Arrival {
    let s = this.streams.get(stream);
    if (s === undefined) {
      s = newStream(this.window);
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
    for (const [k, s] of this.streams) streams[k] = { ...s, words: [...s.words], acks: [...acksOf(s, this.window)] };
    return {
      window: this.window,
      streams,
      sent: Object.fromEntries(this.sentBy),
      dropped: Object.fromEntries(this.droppedBy),
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
    for (const [k, n] of Object.entries(o.dropped ?? {})) this.droppedBy.set(k, (this.droppedBy.get(k) ?? 0) + n);
    for (const [k, other] of Object.entries(o.streams)) {
      const mine = this.streams.get(k);
      const copy = { ...other, words: [...other.words], acks: [...acksOf(other, this.window)] };
      this.streams.set(k, mine === undefined ? copy : mergeStreams(mine, other, this.window));
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
    const out: DeliverySummary = {
      streams: 0,
      published: 0,
      sent: 0,
      delivered: 0,
      lost: 0,
      lostByCloud: 0,
      neverAcknowledged: 0,
      droppedByDevice: 0,
      duplicated: 0,
      outOfOrder: 0,
      tooLate: 0,
      foreign: this.foreign,
    };
    const keys = new Set([...this.streams.keys(), ...this.sentBy.keys(), ...this.droppedBy.keys()]);
    for (const k of keys) {
      const s = this.streams.get(k);
      const sent = this.sentBy.get(k) ?? (s === undefined ? 0 : s.highest + 1);
      const dropped = this.droppedBy.get(k) ?? 0;
      const delivered = s?.delivered ?? 0;
      const lost = Math.max(0, sent - delivered);
      // Acknowledged and never delivered: the cloud's loss. The rest of the loss was never acknowledged.
      const lostByCloud = Math.min(lost, Math.max(0, (s?.acked ?? 0) - (s?.ackedDelivered ?? 0)));
      out.streams++;
      out.published += sent + dropped;
      out.sent += sent;
      out.delivered += delivered;
      out.lost += lost;
      out.lostByCloud += lostByCloud;
      out.neverAcknowledged += lost - lostByCloud;
      out.droppedByDevice += dropped;
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

function bitIn(words: number[], seq: number, window: number): boolean {
  const i = seq % window;
  return (((words[i >> 5] as number) >>> (i & 31)) & 1) === 1;
}

/** The ack ring of a stream, created for states from before issue 24 (no acks recorded). */
function acksOf(s: StreamState, window: number): number[] {
  if (s.acks === undefined) s.acks = new Array<number>(window / 32).fill(0);
  return s.acks;
}

function ack(s: StreamState, seq: number, window: number): void {
  const acks = acksOf(s, window);
  if (seq < s.base) {
    s.acked = (s.acked ?? 0) + 1;
    return;
  }
  if (seq >= s.base + window) slideTo(s, seq, window);
  const i = seq % window;
  if (bitIn(acks, seq, window)) return; // a second PUBACK for a resent message: acknowledged once
  acks[i >> 5] = ((acks[i >> 5] as number) | (1 << (i & 31))) >>> 0;
  s.acked = (s.acked ?? 0) + 1;
  if (bit(s, seq, window)) s.ackedDelivered = (s.ackedDelivered ?? 0) + 1;
}

/** Moves the window so `seq` is its newest slot; each seq is cleared once, so this is O(1) amortised. */
function slideTo(s: StreamState, seq: number, window: number): void {
  const newBase = seq - window + 1;
  if (newBase <= s.base) return;
  if (newBase - s.base >= window) {
    s.words.fill(0);
    s.acks?.fill(0);
  } else {
    for (let q = s.base; q < newBase; q++) {
      const i = q % window;
      s.words[i >> 5] = ((s.words[i >> 5] as number) & ~(1 << (i & 31))) >>> 0;
      if (s.acks !== undefined) s.acks[i >> 5] = ((s.acks[i >> 5] as number) & ~(1 << (i & 31))) >>> 0;
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
  if (s.acks !== undefined && bitIn(s.acks, seq, window)) s.ackedDelivered = (s.ackedDelivered ?? 0) + 1;
  if (seq < s.highest) {
    s.outOfOrder++;
    return 'outOfOrder';
  }
  s.highest = seq;
  return 'delivered';
}

function mergeStreams(a: StreamState, b: StreamState, window: number): StreamState {
  const out: StreamState = { ...a, words: [...a.words], acks: [...acksOf(a, window)] };
  const bAcks = acksOf(b, window);
  // Acks come from the publisher's worker, deliveries may come to another's: a seq acknowledged on
  // one side and delivered on the other (within both windows) is acknowledged and delivered.
  let cross = 0;
  for (let q = Math.max(a.base, b.base); q < Math.min(a.base, b.base) + window; q++) {
    const aAck = bitIn(out.acks as number[], q, window);
    const bAck = bitIn(bAcks, q, window);
    const aDel = bit(a, q, window);
    const bDel = bit(b, q, window);
    if ((aAck && !aDel && bDel && !bAck) || (bAck && !bDel && aDel && !aAck)) cross++;
  }
  out.acked = (a.acked ?? 0) + (b.acked ?? 0);
  out.ackedDelivered = (a.ackedDelivered ?? 0) + (b.ackedDelivered ?? 0) + cross;
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
  for (let q = Math.max(b.base, out.base); q < b.base + window; q++) {
    if (!bitIn(bAcks, q, window)) continue;
    const i = q % window;
    const acks = out.acks as number[];
    acks[i >> 5] = ((acks[i >> 5] as number) | (1 << (i & 31))) >>> 0;
  }
  return out;
}
