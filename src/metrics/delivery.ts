/**
 * End-to-end delivery accounting (pure): for each stream — one publisher's messages as seen by one
 * receiver — counts delivered, duplicated, out-of-order and too-late messages with a fixed-size
 * sliding window bitmap of sequence numbers, and records delivery latency. Lost = sent − delivered
 * once publishers' sent counts are known. State is plain JSON and merges exactly across workers.
 *
 * Who lost a message (issue 24): the publisher reports each PUBACK/PUBCOMP (`recordAcked`) and each
 * publish it dropped itself (`recordDropped`). A lost message the target acknowledged was lost by the
 * cloud; one it never acknowledged (in flight when the session died, or QoS 0, or still in the
 * device's offline queue at the end) is counted apart, so
 * published = delivered + lostByCloud + neverAcknowledged + droppedByDevice, per stream. A resend
 * (`recordResent`) is the same message again: a copy of it delivered twice is the device's
 * duplicate (duplicatedByResend), any other the cloud's (duplicatedByCloud).
 *
 * A message whose sequence is older than the window (windowSize below the highest seen) cannot be
 * told apart from a duplicate; it is counted `tooLate` and never as delivered — for a device cloud a
 * message that late is as good as lost.
 */
import type { DeliveryCounts } from '../results/types.js';
import { emptyDeliveryCounts } from '../results/delivery.js';
import { createHistogram, decodeHistogram, encodeHistogram, recordUs, type Histogram } from './histogram.js';
import {
  ack,
  acksOf,
  arrive,
  markResent,
  mergeStreams,
  newStream,
  resendsOf,
  type Arrival,
  type StreamState,
} from './delivery-window.js';

export type { Arrival, StreamState };

export const DEFAULT_WINDOW = 1024;

export interface DeliveryState {
  window: number;
  streams: Record<string, StreamState>;
  /** Messages publishers report having sent, per stream key. */
  sent: Record<string, number>;
  /** Publishes the device dropped itself (never sent), per stream key. */
  dropped?: Record<string, number>;
  /** Publishes still in the device's offline queue when the run ended (never sent), per stream key. */
  queuedAtEnd?: Record<string, number>;
  /** Payloads that were not herd's (no stamp): a target that rewrites or injects messages. */
  foreign: number;
  /** Latencies that came out negative (clock skew) and were clamped to 0. */
  negativeLatency: number;
  /** Encoded HDR histogram of delivery latency (µs), or null before any delivery. */
  latencyHistogram: string | null;
}

/** The counts results.json reports, plus how many streams (publishers) they cover. */
export type DeliverySummary = DeliveryCounts & { streams: number };

export class DeliveryTracker {
  readonly window: number;
  private readonly streams = new Map<string, StreamState>();
  private readonly sentBy = new Map<string, number>();
  private readonly droppedBy = new Map<string, number>();
  private readonly queuedBy = new Map<string, number>();
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
    ack(this.stream(stream), seq, this.window);
  }

  /** The device resent `seq` of `stream` after a reconnect (DUP set): not a new message. */
  recordResent(stream: string, seq: number): void {
    markResent(this.stream(stream), seq, this.window);
  }

  /** The run ended with `count` messages of `stream` still in the device's offline queue. */
  recordQueuedAtEnd(stream: string, count: number): void {
    if (count > 0) this.queuedBy.set(stream, (this.queuedBy.get(stream) ?? 0) + count);
  }

  private stream(key: string): StreamState {
    let s = this.streams.get(key);
    if (s === undefined) {
      s = newStream(this.window);
      this.streams.set(key, s);
    }
    return s;
  }

  recordForeign(): void {
    this.foreign++;
  }

  /** One received message; `latencyUs` = receive time − stamped send time. */
  recordReceived(stream: string, seq: number, latencyUs: number): Arrival {
    const r = arrive(this.stream(stream), seq, this.window);
    if (r === 'delivered' || r === 'outOfOrder') {
      if (this.latency === null) this.latency = createHistogram();
      if (!recordUs(this.latency, latencyUs)) this.negativeLatency++;
    }
    return r;
  }

  toJSON(): DeliveryState {
    const streams: Record<string, StreamState> = {};
    for (const [k, s] of this.streams)
      streams[k] = {
        ...s,
        words: [...s.words],
        acks: [...acksOf(s, this.window)],
        resends: [...resendsOf(s, this.window)],
      };
    return {
      window: this.window,
      streams,
      sent: Object.fromEntries(this.sentBy),
      dropped: Object.fromEntries(this.droppedBy),
      queuedAtEnd: Object.fromEntries(this.queuedBy),
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
    for (const [k, n] of Object.entries(o.queuedAtEnd ?? {})) this.queuedBy.set(k, (this.queuedBy.get(k) ?? 0) + n);
    for (const [k, other] of Object.entries(o.streams)) {
      const mine = this.streams.get(k);
      const copy = {
        ...other,
        words: [...other.words],
        acks: [...acksOf(other, this.window)],
        resends: [...resendsOf(other, this.window)],
      };
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
    const out: DeliverySummary = { streams: 0, ...emptyDeliveryCounts(), foreign: this.foreign };
    const keys = new Set([
      ...this.streams.keys(),
      ...this.sentBy.keys(),
      ...this.droppedBy.keys(),
      ...this.queuedBy.keys(),
    ]);
    for (const k of keys) {
      const s = this.streams.get(k);
      const sent = this.sentBy.get(k) ?? (s === undefined ? 0 : s.highest + 1);
      const dropped = this.droppedBy.get(k) ?? 0;
      const queued = this.queuedBy.get(k) ?? 0;
      const delivered = s?.delivered ?? 0;
      const sentLost = Math.max(0, sent - delivered);
      // Acknowledged and never delivered: the cloud's loss. The rest of the loss was never acknowledged,
      // and so were the messages still waiting in the device's offline queue at the end.
      const lostByCloud = Math.min(sentLost, Math.max(0, (s?.acked ?? 0) - (s?.ackedDelivered ?? 0)));
      const lost = sentLost + queued;
      const duplicated = s?.duplicated ?? 0;
      const byResend = Math.min(duplicated, s?.duplicatedByResend ?? 0);
      out.streams++;
      out.published += sent + dropped + queued;
      out.queuedAtEnd += queued;
      out.resent += s?.resent ?? 0;
      out.duplicatedByResend += byResend;
      out.duplicatedByCloud += duplicated - byResend;
      out.sent += sent;
      out.delivered += delivered;
      out.lost += lost;
      out.lostByCloud += lostByCloud;
      out.neverAcknowledged += lost - lostByCloud;
      out.droppedByDevice += dropped;
      out.duplicated += duplicated;
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
