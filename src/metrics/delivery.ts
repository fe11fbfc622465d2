/**
 * End-to-end delivery accounting (pure): for each stream — one publisher's messages as seen by one
 * receiver — counts delivered, duplicated, out-of-order and too-late messages with a fixed-size
 * sliding window bitmap of sequence numbers, and records delivery latency. Lost = sent − delivered
 * once publishers' sent counts are known. Streams are held compact (delivery-streams.ts: one per
 * device of a telemetry fleet); their state is plain JSON and merges exactly across workers.
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
  ACKED,
  ACKED_DELIVERED,
  DELIVERED,
  DeliveryStreams,
  DROPPED,
  DUPLICATED,
  DUPLICATED_BY_RESEND,
  HIGHEST,
  OUT_OF_ORDER,
  QUEUED,
  RESENT,
  SENT,
  TOO_LATE,
  type StreamKey,
} from './delivery-streams.js';
import {
  ack,
  arrive,
  loadStream,
  markResent,
  mergeStream,
  toState,
  type Arrival,
  type StreamState,
} from './delivery-window.js';

export type { Arrival, StreamKey, StreamState };

export const DEFAULT_WINDOW = 1024;

/** A sent / dropped / queued count not recorded (NaN) is none. */
const orZero = (n: number): number => (Number.isNaN(n) ? 0 : n);

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
  /** Every stream's counts and rings, and the sent / dropped / queued counts, by stream key. */
  private readonly streams: DeliveryStreams;
  private foreign = 0;
  private negativeLatency = 0;
  private latency: Histogram | null = null;

  constructor(window = DEFAULT_WINDOW) {
    if (!Number.isInteger(window) || window < 32 || window % 32 !== 0)
      throw new Error('window must be a positive multiple of 32');
    this.window = window;
    this.streams = new DeliveryStreams(window);
  }

  /**
   * A publisher sent `count` more messages on `stream` (sequences are 0, 1, 2, … per stream). In
   * every record…: a stream named by a number is the device id's stream, the same as its decimal string.
   */
  recordSent(stream: StreamKey, count = 1): void {
    this.streams.add(this.streams.slot(stream), SENT, count);
  }

  /** The publisher dropped a message of `stream` itself: never sent (refused, queue overflow, no store). */
  recordDropped(stream: StreamKey, count = 1): void {
    this.streams.add(this.streams.slot(stream), DROPPED, count);
  }

  /**
   * The target acknowledged `seq` of `stream` (PUBACK / PUBCOMP). An ack older than the window
   * cannot be matched with its delivery any more: it counts acknowledged, not delivered.
   */
  recordAcked(stream: StreamKey, seq: number): void {
    ack(this.streams, this.streams.slot(stream), seq);
  }

  /** The device resent `seq` of `stream` after a reconnect (DUP set): not a new message. */
  recordResent(stream: StreamKey, seq: number): void {
    markResent(this.streams, this.streams.slot(stream), seq);
  }

  /** The run ended with `count` messages of `stream` still in the device's offline queue. */
  recordQueuedAtEnd(stream: StreamKey, count: number): void {
    if (count > 0) this.streams.add(this.streams.slot(stream), QUEUED, count);
  }

  recordForeign(): void {
    this.foreign++;
  }

  /** One received message; `latencyUs` = receive time − stamped send time. */
  recordReceived(stream: StreamKey, seq: number, latencyUs: number): Arrival {
    const r = arrive(this.streams, this.streams.slot(stream), seq);
    if (r === 'delivered' || r === 'outOfOrder') {
      if (this.latency === null) this.latency = createHistogram();
      if (!recordUs(this.latency, latencyUs)) this.negativeLatency++;
    }
    return r;
  }

  toJSON(): DeliveryState {
    const st = this.streams;
    const streams: Record<string, StreamState> = {};
    const sent: Record<string, number> = {};
    const dropped: Record<string, number> = {};
    const queuedAtEnd: Record<string, number> = {};
    for (const [k, s] of st.entries()) {
      if (st.hasStream(s)) streams[k] = toState(st, s);
      if (!Number.isNaN(st.get(s, SENT))) sent[k] = st.get(s, SENT);
      if (!Number.isNaN(st.get(s, DROPPED))) dropped[k] = st.get(s, DROPPED);
      if (!Number.isNaN(st.get(s, QUEUED))) queuedAtEnd[k] = st.get(s, QUEUED);
    }
    return {
      window: this.window,
      streams,
      sent,
      dropped,
      queuedAtEnd,
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
    const st = this.streams;
    for (const [k, n] of Object.entries(o.sent)) st.add(st.slot(k), SENT, n);
    for (const [k, n] of Object.entries(o.dropped ?? {})) st.add(st.slot(k), DROPPED, n);
    for (const [k, n] of Object.entries(o.queuedAtEnd ?? {})) st.add(st.slot(k), QUEUED, n);
    for (const [k, other] of Object.entries(o.streams)) {
      const s = st.slot(k);
      if (st.hasStream(s)) mergeStream(st, s, other);
      else loadStream(st, s, other);
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
    const st = this.streams;
    for (const [, s] of st.entries()) {
      const sent = Number.isNaN(st.get(s, SENT)) ? st.get(s, HIGHEST) + 1 : st.get(s, SENT);
      const dropped = orZero(st.get(s, DROPPED));
      const queued = orZero(st.get(s, QUEUED));
      const delivered = st.get(s, DELIVERED);
      const sentLost = Math.max(0, sent - delivered);
      // Acknowledged and never delivered: the cloud's loss. The rest of the loss was never acknowledged,
      // and so were the messages still waiting in the device's offline queue at the end.
      const lostByCloud = Math.min(sentLost, Math.max(0, st.get(s, ACKED) - st.get(s, ACKED_DELIVERED)));
      const lost = sentLost + queued;
      const duplicated = st.get(s, DUPLICATED);
      const byResend = Math.min(duplicated, st.get(s, DUPLICATED_BY_RESEND));
      out.streams++;
      out.published += sent + dropped + queued;
      out.queuedAtEnd += queued;
      out.resent += st.get(s, RESENT);
      out.duplicatedByResend += byResend;
      out.duplicatedByCloud += duplicated - byResend;
      out.sent += sent;
      out.delivered += delivered;
      out.lost += lost;
      out.lostByCloud += lostByCloud;
      out.neverAcknowledged += lost - lostByCloud;
      out.droppedByDevice += dropped;
      out.duplicated += duplicated;
      out.outOfOrder += st.get(s, OUT_OF_ORDER);
      out.tooLate += st.get(s, TOO_LATE);
    }
    return out;
  }

  /** Delivery latency histogram (µs); null before any delivery. Owned by the tracker. */
  latencyHistogram(): Histogram | null {
    return this.latency;
  }
}
