/**
 * Device message stores as the SDKs keep them (issue 24), one per device, pure: no sockets, no
 * timers. A QoS 1/2 telemetry publish stays in the store from its first write until its PUBACK /
 * PUBCOMP; when the session dies, what is still there is resent after the device reconnects, with
 * DUP set (MQTT 3.1.1 §4.4, MQTT 5 §4.4), in any new session (`resend: always`, MQTT.js and the
 * AWS CRT) or only in a resumed one (`resend: session`, Paho). Publishes due while the device is
 * offline go to a bounded offline queue and leave in order once it is back; past its size one is
 * dropped by the device (the oldest or the newest). `store: none` keeps nothing: firmware that drops.
 *
 * Messages are the messaging layer's sequence numbers with the time their payload was stamped, so
 * a resent or queued message keeps its id and its stamp: end-to-end matching stays exact.
 */
import type { ResolvedStore } from '../results/resolved-scenario.js';

/** One telemetry message as the store holds it. */
export interface StoredMessage {
  seq: number;
  stampUs: number;
}

/** A message due while the device was offline: queued, or dropped by the device (with the ones it pushed out). */
export interface OfflineOutcome {
  queued: boolean;
  /** Messages the device dropped for this one: itself (dropNewest, no queue) or the oldest queued (dropOldest). */
  dropped: StoredMessage[];
}

/** What a device sends once its new session is ready: resends first (DUP set), then its queue. */
export interface Flush {
  resend: readonly StoredMessage[];
  /** Unacknowledged messages the device forgot (a clean session with `resend: session`, or none). */
  forgotten: readonly StoredMessage[];
}

/** Whether a message written at QoS `qos` stays in the store until its acknowledgement. */
export function keptUntilAcked(qos: 0 | 1 | 2, rules: ResolvedStore): boolean {
  return qos !== 0 && rules.resend !== 'never';
}

/** What a device that keeps nothing unacknowledged sends and forgets: nothing (shared, never changed). */
const NOTHING_KEPT: Flush = Object.freeze({ resend: Object.freeze([]), forgotten: Object.freeze([]) });

export class DeviceStores {
  /** Per slot: sent, not yet acknowledged, in send order (only kept when the rules resend). */
  private readonly unacked: (StoredMessage[] | undefined)[];
  /** Per slot: due while offline, not yet sent, oldest first. */
  private readonly queued: (StoredMessage[] | undefined)[];

  constructor(slots: number) {
    this.unacked = new Array<StoredMessage[] | undefined>(slots);
    this.queued = new Array<StoredMessage[] | undefined>(slots);
  }

  /** The device wrote `m` at QoS `qos`: a QoS 1/2 message waits in the store for its acknowledgement. */
  sent(slot: number, m: StoredMessage, qos: 0 | 1 | 2, rules: ResolvedStore): void {
    if (!keptUntilAcked(qos, rules)) return;
    (this.unacked[slot] ??= []).push(m);
  }

  /** PUBACK / PUBCOMP for `seq`: it leaves the store. */
  acked(slot: number, seq: number): void {
    const u = this.unacked[slot];
    if (u === undefined) return;
    // Acknowledgements come in send order almost always: the first entry is the usual match.
    const i = u[0]?.seq === seq ? 0 : u.findIndex((m) => m.seq === seq);
    if (i >= 0) u.splice(i, 1);
  }

  /** A message fell due while the device had no session. */
  dueOffline(slot: number, m: StoredMessage, qos: 0 | 1 | 2, rules: ResolvedStore): OfflineOutcome {
    const max = rules.offlineQueue;
    if (max === 0 || (qos === 0 && !rules.queueQos0)) return { queued: false, dropped: [m] };
    const q = (this.queued[slot] ??= []);
    if (max === null || q.length < max) {
      q.push(m);
      return { queued: true, dropped: [] };
    }
    if (rules.overflow === 'dropNewest') return { queued: false, dropped: [m] };
    const oldest = q.shift() as StoredMessage;
    q.push(m);
    return { queued: true, dropped: [oldest] };
  }

  /** Messages waiting in the offline queue. */
  queuedCount(slot: number): number {
    return this.queued[slot]?.length ?? 0;
  }

  /**
   * The device's new session is ready (`resumed`: the server kept its session). Returns what it
   * resends, oldest first, and forgets what its rules do not resend; the queue stays for `nextQueued`.
   */
  reconnected(slot: number, resumed: boolean, rules: ResolvedStore): Flush {
    const u = this.unacked[slot];
    if (u === undefined) return NOTHING_KEPT; // a first session, or nothing kept: no arrays made per connect
    this.unacked[slot] = undefined;
    if (rules.resend === 'always' || (rules.resend === 'session' && resumed)) return { resend: u, forgotten: [] };
    return { resend: [], forgotten: u };
  }

  /** The oldest queued message, taken out of the queue, or null. */
  nextQueued(slot: number): StoredMessage | null {
    const q = this.queued[slot];
    if (q === undefined || q.length === 0) return null;
    return q.shift() as StoredMessage;
  }

  /** Puts back a message the session could not take (in-flight cap): it goes first next time. */
  requeueFirst(slot: number, m: StoredMessage): void {
    (this.queued[slot] ??= []).unshift(m);
  }

  /** The run ended: per slot, the messages still unacknowledged and still queued. */
  leftAtEnd(slot: number): { unacked: number; queued: number } {
    return { unacked: this.unacked[slot]?.length ?? 0, queued: this.queued[slot]?.length ?? 0 };
  }
}
