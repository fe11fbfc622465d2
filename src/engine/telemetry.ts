/**
 * Device telemetry with the device's message store (message-store.ts): each device publishes at
 * its cohort's interval from its first subscription on, online or not. Online, a message is written
 * and (QoS 1/2) kept until acknowledged; offline, it goes to the offline queue or is dropped by the
 * device, as its store's rules say. Once a new session is ready the device resends what was never
 * acknowledged (DUP set), then its queue in order. Every message gets its sequence number once, so a
 * resend is the same message to the delivery tracker.
 */
import { SEND_REFUSED } from '../protocols/mqtt/connection.js';
import { PAYLOAD_HEADER_BYTES, writeStamp } from '../protocols/payload.js';
import type { DeliveryTracker } from '../metrics/delivery.js';
import type { Recorder } from '../metrics/recorder.js';
import type { ResolvedPublish, ResolvedScenario } from '../results/resolved-scenario.js';
import type { MqttSession } from '../protocols/device.js';
import { DeviceStores, keptUntilAcked, type StoredMessage } from './message-store.js';

export interface TelemetryHost {
  readonly scenario: ResolvedScenario;
  readonly ids: Uint32Array;
  cohortOf(slot: number): number;
  schedulePublish(slot: number, atUs: number): void;
  /** When publishing stops: teardown minus the cohort's stopBeforeEnd. */
  readonly durationUs: number;
  /** The device has a session or will have one again: one is open or opening, or its reconnect is scheduled. */
  comingBack(slot: number): boolean;
}

export class Telemetry {
  private readonly seq: Uint32Array;
  /** 1 = a publish event for the slot is in the runner's heap. */
  private readonly pending: Uint8Array;
  private readonly stores: DeviceStores;
  /**
   * Per cohort: the one payload buffer every publish restamps. Safe because a session copies the
   * payload before publish() returns — the JavaScript path into the packet mqtt-packet's generate()
   * builds, the native core into its own send buffer — so nothing keeps a reference to it.
   */
  private readonly payloads: (Buffer | undefined)[] = [];

  constructor(
    private readonly host: TelemetryHost,
    private readonly rec: Recorder,
    private readonly trackers: readonly DeliveryTracker[],
    private readonly topic: (slot: number) => string,
  ) {
    const n = host.ids.length;
    this.seq = new Uint32Array(n);
    this.pending = new Uint8Array(n);
    this.stores = new DeviceStores(n);
  }

  private publishOf(slot: number): ResolvedPublish | null {
    return this.host.scenario.cohorts[this.host.cohortOf(slot)]?.device.publish ?? null;
  }

  private tracker(slot: number, p: ResolvedPublish): DeliveryTracker | undefined {
    return p.echo ? this.trackers[this.host.cohortOf(slot)] : undefined;
  }

  /** The device's delivery stream: its id (the tracker's key for the id's decimal string). */
  private stream(slot: number): number {
    return this.host.ids[slot] as number;
  }

  /**
   * The device's session is ready to publish (subscribed when it echoes): the chain starts if it
   * is not running, and what the store holds goes out — resends first, then the queue in order.
   */
  ready(slot: number, c: MqttSession, nowUs: number): void {
    const p = this.publishOf(slot);
    if (p === null) return;
    const flush = this.stores.reconnected(slot, c.sessionPresent, p.store);
    for (let i = 0; i < flush.resend.length; i++) {
      const m = flush.resend[i] as StoredMessage;
      if (!this.write(slot, c, p, m.seq, m.stampUs, m, true)) {
        // The session took no more (in-flight cap): the rest wait at the head of the queue.
        for (let k = flush.resend.length - 1; k >= i; k--)
          this.stores.requeueFirst(slot, flush.resend[k] as StoredMessage);
        break;
      }
    }
    this.drain(slot, c, p);
    if (this.pending[slot] === 1) return; // the chain from an earlier session carries on
    // Spread first publishes over one interval so a fleet that connected together does not publish together.
    const id = this.host.ids[slot] as number;
    this.pending[slot] = 1;
    this.host.schedulePublish(slot, nowUs + ((id * 0.618033988749895) % 1) * p.everyUs);
  }

  /** A publish event fired: the device publishes (or queues, or drops) its next message; the next is scheduled. */
  due(slot: number, c: MqttSession | null, ready: boolean, nowUs: number): void {
    this.pending[slot] = 0;
    const p = this.publishOf(slot);
    if (p === null || nowUs >= this.host.durationUs - p.stopBeforeEndUs) return;
    const online = ready && c !== null && c.state === 'connected';
    // A device that will never have a session again publishes nothing more.
    if (!online && !this.host.comingBack(slot)) return;
    const seq = this.seq[slot] as number;
    this.seq[slot] = seq + 1;
    if (online) {
      this.drain(slot, c, p);
      if (this.stores.queuedCount(slot) > 0) this.offline(slot, p, { seq, stampUs: nowUs });
      else if (!this.write(slot, c, p, seq, nowUs, null, false)) {
        // Refused on the device (send buffer or in-flight cap full): never sent.
        this.rec.counters.messagesRefused++;
        this.tracker(slot, p)?.recordDropped(this.stream(slot));
      }
    } else this.offline(slot, p, { seq, stampUs: nowUs });
    this.pending[slot] = 1;
    this.host.schedulePublish(slot, nowUs + p.everyUs);
  }

  /** PUBACK / PUBCOMP (or an MQTT 5 refusal) for telemetry `seq`: it leaves the store, and the queue may move. */
  acked(slot: number, seq: number, c: MqttSession | null): void {
    this.stores.acked(slot, seq);
    const p = this.publishOf(slot);
    if (p !== null && c !== null && c.state === 'connected' && this.stores.queuedCount(slot) > 0)
      this.drain(slot, c, p);
  }

  /** The run ended: what is still queued on the devices is counted (never sent, never acknowledged). */
  finish(): void {
    for (let slot = 0; slot < this.seq.length; slot++) {
      const p = this.publishOf(slot);
      if (p === null) continue;
      const left = this.stores.leftAtEnd(slot).queued;
      if (left > 0) this.tracker(slot, p)?.recordQueuedAtEnd(this.stream(slot), left);
    }
  }

  private offline(slot: number, p: ResolvedPublish, m: StoredMessage): void {
    const out = this.stores.dueOffline(slot, m, p.qos, p.store);
    if (out.dropped.length > 0) this.tracker(slot, p)?.recordDropped(this.stream(slot), out.dropped.length);
  }

  /** Sends queued messages in order while the session takes them. */
  private drain(slot: number, c: MqttSession, p: ResolvedPublish): void {
    for (let m = this.stores.nextQueued(slot); m !== null; m = this.stores.nextQueued(slot)) {
      if (!this.write(slot, c, p, m.seq, m.stampUs, m, false)) {
        this.stores.requeueFirst(slot, m);
        return;
      }
    }
  }

  /**
   * Writes message `seq` stamped at `stampUs` (its first time, or a resend); false when the session
   * refused it. `m` is the message as the store holds it, or null for a new one: its record is only
   * made when the store keeps it, so a publish the store does not keep makes none.
   */
  private write(
    slot: number,
    c: MqttSession,
    p: ResolvedPublish,
    seq: number,
    stampUs: number,
    m: StoredMessage | null,
    resend: boolean,
  ): boolean {
    const cohort = this.host.cohortOf(slot);
    const payload = (this.payloads[cohort] ??= Buffer.alloc(Math.max(PAYLOAD_HEADER_BYTES, p.payloadBytes)));
    writeStamp(payload, this.host.ids[slot] as number, seq, stampUs);
    // The tag (seq + 1) comes back with the PUBACK / PUBCOMP: who lost a message is then known.
    if (c.publish(this.topic(slot), payload, p.qos, false, seq + 1, resend) === SEND_REFUSED) return false;
    if (keptUntilAcked(p.qos, p.store)) this.stores.sent(slot, m ?? { seq, stampUs }, p.qos, p.store);
    const t = this.tracker(slot, p);
    if (resend) t?.recordResent(this.stream(slot), seq);
    else {
      this.rec.counters.messagesSent++;
      t?.recordSent(this.stream(slot));
    }
    return true;
  }
}
