/**
 * Cloud → device downlink and persistent-session replay (issue 16). From a device's first
 * acknowledged subscription on, the cloud's side (the requester connection) publishes to the
 * device's inbox at the cohort's interval whether the device is online or not — as a cloud sends
 * commands and configuration. A device with a persistent session (clean session off, or an MQTT 5
 * session expiry) gets what was queued while it was offline replayed when it reconnects; a clean
 * device loses it. Both sides live in one worker, so every count here is exact:
 *
 * - backlog: at a resumed session's CONNACK, the messages the cloud sent that the device has not
 *   received yet; the replay is those messages arriving in that session;
 * - replay.drain: CONNACK → the last message of that backlog received (the backlog drained);
 * - replay.duration: first → last replayed message;
 * - a backlog that has not drained when the session ends is `replay.undrained`; a persistent device
 *   whose CONNACK says no session is present lost its session (`sessions.lost`).
 */
import type { Recorder } from '../metrics/recorder.js';
import { DeliveryTracker } from '../metrics/delivery.js';
import type { ResolvedDownlink, ResolvedScenario } from '../results/resolved-scenario.js';
import { encodePayload } from '../protocols/payload.js';

export interface DownlinkSender {
  readonly isReady: boolean;
  /** Publishes one message to device `id`'s inbox; false when it could not be sent. `tag` comes back on its ack. */
  send(topic: string, payload: Buffer, qos: 0 | 1 | 2, tag: number): boolean;
}

export interface DownlinkHost {
  readonly scenario: ResolvedScenario;
  readonly runId: string;
  readonly ids: Uint32Array;
  /** When teardown starts. */
  readonly durationUs: number;
  cohortOf(slot: number): number;
  schedule(slot: number, atUs: number): void;
  senderFor(slot: number): DownlinkSender | null;
}

/** Where the cloud publishes to device `id`. */
export function inboxTopic(runId: string, id: number): string {
  return `herd/${runId}/${id}/in`;
}

const NONE = 0;
const REPLAYING = 1;

export class Downlink {
  private readonly host: DownlinkHost;
  private readonly rec: Recorder;
  /** Per cohort: what the cloud sent, what the target acknowledged, what the devices received. */
  private readonly trackers: DeliveryTracker[];
  /** Sent QoS 1/2 messages awaiting their acknowledgement: tag → [slot, seq]. */
  private readonly awaiting = new Map<number, [number, number]>();
  private nextTag = 1;
  /** Messages the cloud sent to each device (the next sequence number). */
  private readonly sent: Uint32Array;
  /** Distinct messages each device received. */
  private readonly received: Uint32Array;
  /** 1 once the device's inbox subscription was acknowledged: the cloud feeds it from then on. */
  private readonly feeding: Uint8Array;
  /**
   * Messages below this sequence number that never arrived are lost for good: sent while no
   * subscription of the device existed. Set when a subscription is acknowledged; `sinceFloor`
   * counts distinct arrivals at or above it.
   */
  private readonly floor: Uint32Array;
  private readonly sinceFloor: Uint32Array;
  private readonly replay: Uint8Array;
  /** Of the current replay: sequence numbers below this were sent before the CONNACK. */
  private readonly backlogTo: Uint32Array;
  private readonly left: Uint32Array;
  private readonly replayed: Uint32Array;
  private readonly connackUs: Float64Array;
  private readonly firstUs: Float64Array;
  private readonly topics: (string | undefined)[];

  constructor(host: DownlinkHost, rec: Recorder) {
    this.host = host;
    this.rec = rec;
    const n = host.ids.length;
    this.trackers = host.scenario.cohorts.map(() => new DeliveryTracker());
    this.sent = new Uint32Array(n);
    this.received = new Uint32Array(n);
    this.feeding = new Uint8Array(n);
    this.floor = new Uint32Array(n);
    this.sinceFloor = new Uint32Array(n);
    this.replay = new Uint8Array(n);
    this.backlogTo = new Uint32Array(n);
    this.left = new Uint32Array(n);
    this.replayed = new Uint32Array(n);
    this.connackUs = new Float64Array(n);
    this.firstUs = new Float64Array(n);
    this.topics = new Array<string | undefined>(n);
  }

  get enabled(): boolean {
    return this.host.scenario.cohorts.some((c) => c.device.downlink !== null);
  }

  of(slot: number): ResolvedDownlink | null {
    return this.host.scenario.cohorts[this.host.cohortOf(slot)]?.device.downlink ?? null;
  }

  /** The device's inbox topic, built once per device (it is compared on every message received). */
  topic(slot: number): string {
    return (this.topics[slot] ??= inboxTopic(this.host.runId, this.host.ids[slot] as number));
  }

  /** Whether this device keeps its session across connections (what it asks the target for). */
  persistent(slot: number): boolean {
    const d = this.host.scenario.cohorts[this.host.cohortOf(slot)]?.device;
    // MQTT 5 resumes only with Clean Start off and keeps the session only with a session expiry.
    return d !== undefined && !d.cleanSession && (d.mqttVersion === 5 ? (d.sessionExpiryS ?? 0) > 0 : true);
  }

  /** Whether the device's inbox subscription already exists in the session the target kept. */
  hasSubscription(slot: number): boolean {
    return this.feeding[slot] === 1;
  }

  /**
   * A session began (CONNACK). Returns whether the device must subscribe again: a clean session
   * or a persistent one the target did not keep.
   */
  onConnected(slot: number, sessionPresent: boolean, nowUs: number): boolean {
    this.sessionEnded(slot); // a replay its last session left open (an abandoned connection) ends here
    if (this.of(slot) === null || this.feeding[slot] !== 1) return true;
    const cohort = this.host.cohortOf(slot);
    if (!this.persistent(slot)) return true;
    if (!sessionPresent) {
      this.rec.tally('sessions.lost', cohort);
      return true;
    }
    this.rec.tally('sessions.resumed', cohort);
    const backlog = (this.sent[slot] as number) - (this.floor[slot] as number) - (this.sinceFloor[slot] as number);
    if (backlog > 0) {
      this.replay[slot] = REPLAYING;
      this.backlogTo[slot] = this.sent[slot] as number;
      this.left[slot] = backlog;
      this.replayed[slot] = 0;
      this.connackUs[slot] = nowUs;
      this.firstUs[slot] = Number.NaN;
      this.rec.tally('replay.sessions', cohort);
      this.rec.tally('replay.backlog', cohort, backlog);
    }
    return false;
  }

  /** The inbox subscription was acknowledged: the cloud starts feeding this device (the first time). */
  onSubscribed(slot: number, nowUs: number): void {
    const d = this.of(slot);
    if (d === null) return;
    this.floor[slot] = this.sent[slot] as number;
    this.sinceFloor[slot] = 0;
    if (this.feeding[slot] === 1) return;
    this.feeding[slot] = 1;
    // Each device's messages fall on its own grid, fromUs + offset + k·every, the offsets spread
    // over one interval (as telemetry's are) so the fleet is not fed in lock step; the first is
    // the first grid point from now on. A grid (not "now + every") keeps the count in a window exact.
    const id = this.host.ids[slot] as number;
    const originUs = d.fromUs + ((id * 0.754877666246693) % 1) * d.everyUs;
    const k = nowUs <= originUs ? 0 : Math.ceil((nowUs - originUs) / d.everyUs);
    this.host.schedule(slot, originUs + k * d.everyUs);
  }

  /** When the cloud stops sending to this cohort. */
  private untilUs(d: ResolvedDownlink): number {
    return Math.min(d.untilUs ?? Number.POSITIVE_INFINITY, this.host.durationUs - d.stopBeforeEndUs);
  }

  /** A downlink event due at `atUs` fired: the cloud sends the next message, online or not, and schedules the next. */
  due(slot: number, atUs: number): void {
    const d = this.of(slot);
    if (d === null || atUs >= this.untilUs(d)) return;
    const nowUs = atUs;
    const cohort = this.host.cohortOf(slot);
    const sender = this.host.senderFor(slot);
    const seq = this.sent[slot] as number;
    const id = this.host.ids[slot] as number;
    const payload = encodePayload({ deviceId: id, seq, sentUs: nowUs }, d.payloadBytes);
    const tag = d.qos > 0 ? this.nextTag : 0;
    if (sender?.isReady && sender.send(this.topic(slot), payload, d.qos, tag)) {
      this.sent[slot] = seq + 1;
      this.rec.tally('downlink.sent', cohort);
      this.trackers[cohort]?.recordSent(id);
      if (tag !== 0) {
        this.awaiting.set(tag, [slot, seq]);
        this.nextTag = (this.nextTag % 0x7fffffff) + 1;
      }
    } else this.rec.tally('downlink.notSent', cohort);
    if (atUs + d.everyUs < this.untilUs(d)) this.host.schedule(slot, atUs + d.everyUs);
  }

  /** A message arrived on the device's inbox. */
  onMessage(slot: number, seq: number, sentUs: number, receivedUs: number): void {
    const cohort = this.host.cohortOf(slot);
    const arrival = (this.trackers[cohort] as DeliveryTracker).recordReceived(
      this.host.ids[slot] as number,
      seq,
      receivedUs - sentUs,
    );
    if (arrival === 'duplicate' || arrival === 'tooLate') {
      this.rec.tally(`downlink.${arrival === 'duplicate' ? 'duplicated' : 'tooLate'}`, cohort);
      return;
    }
    this.received[slot] = (this.received[slot] as number) + 1;
    this.rec.tally('downlink.received', cohort);
    this.rec.record('downlink.latency', receivedUs - sentUs, cohort);
    if (seq < (this.floor[slot] as number)) return;
    this.sinceFloor[slot] = (this.sinceFloor[slot] as number) + 1;
    if (this.replay[slot] !== REPLAYING || seq >= (this.backlogTo[slot] as number)) return;
    if (Number.isNaN(this.firstUs[slot])) this.firstUs[slot] = receivedUs;
    this.replayed[slot] = (this.replayed[slot] as number) + 1;
    this.left[slot] = (this.left[slot] as number) - 1;
    if (this.left[slot] === 0) {
      this.rec.record('replay.drain', receivedUs - (this.connackUs[slot] as number), cohort);
      this.rec.record('replay.duration', receivedUs - (this.firstUs[slot] as number), cohort);
      this.endReplay(slot, 'replay.drained');
    }
  }

  /** The device's session ended (lost, closed, or the run ended): a backlog still replaying did not drain. */
  sessionEnded(slot: number): void {
    if (this.replay[slot] === REPLAYING) this.endReplay(slot, 'replay.undrained');
  }

  /** The target acknowledged the message sent with `tag`: if it never arrives, the cloud lost it. */
  acked(tag: number): void {
    const a = this.awaiting.get(tag);
    if (a === undefined) return;
    this.awaiting.delete(tag);
    const [slot, seq] = a;
    this.trackers[this.host.cohortOf(slot)]?.recordAcked(this.host.ids[slot] as number, seq);
  }

  /** End of run: every replay still going is undrained. */
  finish(): void {
    for (let slot = 0; slot < this.replay.length; slot++) this.sessionEnded(slot);
  }

  /** The run is ending (before its last metrics): each cohort's losses the target had acknowledged. */
  countCloudLosses(): void {
    this.trackers.forEach((t, cohort) => {
      const byCloud = t.summary().lostByCloud;
      if (byCloud > 0) this.rec.tally('downlink.lostByCloud', cohort, byCloud);
    });
  }

  private endReplay(slot: number, how: 'replay.drained' | 'replay.undrained'): void {
    const cohort = this.host.cohortOf(slot);
    this.replay[slot] = NONE;
    this.rec.tally(how, cohort);
    this.rec.tally('replay.messages', cohort, this.replayed[slot] as number);
  }
}
