/**
 * Device telemetry: each connected device publishes on its topic at the cohort's interval, and
 * (with echo) subscribes to it first, so every message comes back through the target and is
 * counted end to end — delivered, lost, duplicated, out of order — with its delivery latency.
 * Cloud → device requests and downlink messages (downlink.ts) travel through the cloud's side,
 * one requester connection per target endpoint, which this module owns. The runner owns timing
 * (its event heap); this module owns what a publish, a subscription and a receipt mean.
 */
import { SEND_REFUSED } from '../protocols/mqtt/connection.js';
import { decodePayload } from '../protocols/payload.js';
import { DeliveryTracker, type DeliveryState } from '../metrics/delivery.js';
import type { Recorder } from '../metrics/recorder.js';
import type { ResolvedPublish, ResolvedRequests, ResolvedScenario } from '../results/resolved-scenario.js';
import type { Device, InboundMessage, MqttSession, PreparedTarget } from '../protocols/device.js';
import { Downlink } from './downlink.js';
import { Requester, replyTopic, requestTopic, type RequesterHost } from './requester.js';
import { Telemetry } from './telemetry.js';
import { TopicTemplate } from './topic.js';

export interface RequestSender {
  readonly isReady: boolean;
  request(id: number, seq: number, payloadBytes: number): boolean;
}

export interface MessagingHost {
  readonly scenario: ResolvedScenario;
  readonly runId: string;
  readonly workerIndex: number;
  readonly ids: Uint32Array;
  cohortOf(slot: number): number;
  schedulePublish(slot: number, atUs: number): void;
  scheduleRequest(slot: number, atUs: number): void;
  scheduleDownlink(slot: number, atUs: number): void;
  /** The run's target endpoints the cloud's side connects to, and what its connections need. */
  readonly cloudTargets: readonly PreparedTarget[];
  readonly cloud: RequesterHost;
  /** When publishing stops: teardown minus the cohort's stopBeforeEnd. */
  readonly durationUs: number;
  /** The device has a session or will have one again: one is open or opening, or its reconnect is scheduled. */
  comingBack(slot: number): boolean;
  /** The device's MQTT session, if it has one now. */
  sessionOf(slot: number): MqttSession | null;
}

export class Messaging {
  private readonly host: MessagingHost;
  private readonly rec: Recorder;
  private readonly trackers: DeliveryTracker[];
  private readonly telemetry: Telemetry;
  /** 1 = the current session's echo subscription is acknowledged. */
  private readonly subscribed: Uint8Array;
  /** Per cohort: its publish topic, compiled once; no topic string is held per device. */
  private readonly topics: TopicTemplate[];
  private readonly reqSeq: Uint32Array;
  private readonly reqPending: Uint8Array;
  /** Cloud-side connections, one per target endpoint (only when a cohort takes requests or downlink). */
  private readonly requesters: Requester[] = [];
  private readonly downlink: Downlink;

  constructor(host: MessagingHost, rec: Recorder) {
    this.host = host;
    this.rec = rec;
    const n = host.ids.length;
    this.trackers = host.scenario.cohorts.map(() => new DeliveryTracker());
    this.telemetry = new Telemetry(host, rec, this.trackers, (slot) => this.topic(slot));
    this.subscribed = new Uint8Array(n);
    this.topics = host.scenario.cohorts.map(
      (c) => new TopicTemplate(c.device.publish?.topic ?? '', host.runId, c.name),
    );
    this.reqSeq = new Uint32Array(n);
    this.reqPending = new Uint8Array(n);
    const cohorts = host.scenario.cohorts;
    const requests = cohorts.map((c) => c.device.requests).find((r) => r !== null);
    if (requests !== undefined || cohorts.some((c) => c.device.downlink !== null)) {
      for (const target of host.cloudTargets)
        this.requesters.push(
          new Requester({ ...host.cloud, onAcked: (tag) => this.downlink.acked(tag) }, target, requests?.qos ?? 1),
        );
    }
    this.downlink = new Downlink(
      {
        ...host,
        schedule: (slot, atUs) => host.scheduleDownlink(slot, atUs),
        senderFor: (slot) => this.requesterFor(slot),
      },
      rec,
    );
  }

  start(): void {
    for (const r of this.requesters) r.start();
  }

  stop(): void {
    for (const r of this.requesters) r.stop();
  }

  /** The requester that reaches this device's target endpoint, or null. */
  private requesterFor(slot: number): Requester | null {
    const n = this.requesters.length;
    return n === 0 ? null : (this.requesters[(this.host.ids[slot] as number) % n] ?? null);
  }

  private publishOf(slot: number): ResolvedPublish | null {
    return this.host.scenario.cohorts[this.host.cohortOf(slot)]?.device.publish ?? null;
  }

  /** The device's telemetry topic, built from its cohort's template each time it is needed. */
  private topic(slot: number): string {
    return this.topics[this.host.cohortOf(slot)]?.expand(this.host.ids[slot] as number) ?? '';
  }

  private requestsOf(slot: number): ResolvedRequests | null {
    return this.host.scenario.cohorts[this.host.cohortOf(slot)]?.device.requests ?? null;
  }

  onConnected(slot: number, c: MqttSession, nowUs: number): void {
    const p = this.publishOf(slot);
    const r = this.requestsOf(slot);
    const dl = this.downlink.of(slot);
    if (p === null && r === null && dl === null) return;
    this.subscribed[slot] = 0;
    // A persistent session the target kept still holds every subscription of this device.
    const resubscribe = this.downlink.onConnected(slot, c.sessionPresent, nowUs);
    const id = this.host.ids[slot] as number;
    const topics: string[] = [];
    if (p?.echo) topics.push(this.topic(slot));
    if (r !== null) topics.push(requestTopic(this.host.runId, id));
    if (dl !== null) topics.push(this.downlink.topic(slot));
    if (topics.length > 0 && !resubscribe) this.subscribedNow(slot, nowUs);
    else if (topics.length > 0) {
      // One SUBSCRIBE for telemetry echo, requests and downlink; all start on its SUBACK.
      if (c.subscribe(topics, Math.max(p?.qos ?? 0, r?.qos ?? 0, dl?.qos ?? 0) as 0 | 1 | 2) === SEND_REFUSED)
        this.rec.counters.messagesRefused++;
    } else if (p !== null) this.telemetry.ready(slot, c, nowUs);
  }

  onSubscribed(slot: number, granted: readonly number[], latencyUs: number, nowUs: number): void {
    this.rec.record('message.subscribeAck', latencyUs);
    if (this.publishOf(slot) === null && this.requestsOf(slot) === null && this.downlink.of(slot) === null) return;
    if (granted.some((g) => g >= 0x80)) {
      this.rec.error({
        origin: 'protocol',
        phase: 'subscribe',
        code: `SUBACK_${(granted.find((g) => g >= 0x80) as number).toString(16).toUpperCase()}`,
      });
      return;
    }
    this.downlink.onSubscribed(slot, nowUs);
    this.subscribedNow(slot, nowUs);
  }

  /** The device's subscriptions are in place: telemetry and requests start. */
  private subscribedNow(slot: number, nowUs: number): void {
    const p = this.publishOf(slot);
    this.subscribed[slot] = 1;
    const c = this.host.sessionOf(slot);
    if (p !== null && c !== null) this.telemetry.ready(slot, c, nowUs);
    const r = this.requestsOf(slot);
    if (r !== null && this.reqPending[slot] === 0) {
      const id = this.host.ids[slot] as number;
      this.reqPending[slot] = 1;
      this.host.scheduleRequest(slot, nowUs + ((id * 0.381966011250105) % 1) * r.everyUs);
    }
  }

  /** A request event fired: the cloud asks this device, if both ends are ready; then the next. */
  requestDue(slot: number, c: MqttSession | null, nowUs: number): void {
    this.reqPending[slot] = 0;
    const r = this.requestsOf(slot);
    if (r === null || c === null || c.state !== 'connected' || this.subscribed[slot] !== 1) return;
    if (nowUs >= this.host.durationUs - r.stopBeforeEndUs) return;
    const sender: RequestSender | null = this.requesterFor(slot);
    if (sender?.isReady && sender.request(this.host.ids[slot] as number, this.reqSeq[slot] as number, r.payloadBytes)) {
      this.reqSeq[slot] = (this.reqSeq[slot] as number) + 1;
      this.rec.counters.requestsSent++;
    }
    this.reqPending[slot] = 1;
    this.host.scheduleRequest(slot, nowUs + r.everyUs);
  }

  /** A publish event fired: the device's next message (telemetry.ts). */
  publishDue(slot: number, c: MqttSession | null, nowUs: number): void {
    const p = this.publishOf(slot);
    this.telemetry.due(slot, c, p !== null && (!p.echo || this.subscribed[slot] === 1), nowUs);
  }

  /** A PUBACK / PUBCOMP for a publish of `slot`; `tag` = telemetry seq + 1 (0: not telemetry). */
  onPublished(slot: number, tag: number, latencyUs: number, reasonCode: number): void {
    this.rec.record('message.publishAck', latencyUs);
    // Refused or accepted, the exchange is over: the message leaves the device's store.
    if (tag !== 0) this.telemetry.acked(slot, tag - 1, this.host.sessionOf(slot));
    if (reasonCode >= 0x80) {
      this.rec.error({ origin: 'protocol', phase: 'publish', code: `PUBACK_${reasonCode.toString(16).toUpperCase()}` });
      return; // refused, not accepted: a loss the target did not take on
    }
    if (tag === 0 || this.publishOf(slot)?.echo !== true) return;
    this.trackers[this.host.cohortOf(slot)]?.recordAcked(this.host.ids[slot] as number, tag - 1);
  }

  /** A downlink event fired: the cloud sends this device its next message. */
  downlinkDue(slot: number, atUs: number): void {
    this.downlink.due(slot, atUs);
  }

  /** The device's session ended: a replay still going did not drain. */
  sessionEnded(slot: number): void {
    this.downlink.sessionEnded(slot);
  }

  onMessage(slot: number, m: InboundMessage, c: Device): void {
    const id = this.host.ids[slot] as number;
    if (this.downlink.of(slot) !== null && m.topic === this.downlink.topic(slot)) {
      const s = decodePayload(m.payload);
      if (s !== null) this.downlink.onMessage(slot, s.seq, s.sentUs, m.receivedUs);
      return;
    }
    const r = this.requestsOf(slot);
    if (r !== null && m.topic === requestTopic(this.host.runId, id)) {
      // The device's function: answer with the request's own stamp, so the round trip is timed.
      c.mqtt?.publish(replyTopic(this.host.runId, this.host.workerIndex, id), m.payload, r.qos);
      return;
    }
    const stamp = decodePayload(m.payload);
    const tracker = this.trackers[this.host.cohortOf(slot)];
    if (!tracker) return;
    if (stamp === null) {
      tracker.recordForeign();
      return;
    }
    const latencyUs = m.receivedUs - stamp.sentUs;
    tracker.recordReceived(stamp.deviceId, stamp.seq, latencyUs);
    this.rec.counters.messagesDelivered++;
    this.rec.record('delivery.latency', latencyUs);
  }

  /** The run is ending, before its last metrics: downlink losses are split by who lost them. */
  ending(): void {
    this.downlink.countCloudLosses();
  }

  /** Per cohort name: the delivery state to merge in the coordinator. Ends replays still going. */
  state(): Record<string, DeliveryState> {
    this.downlink.finish();
    this.telemetry.finish();
    const out: Record<string, DeliveryState> = {};
    this.host.scenario.cohorts.forEach((c, i) => {
      if (c.device.publish?.echo) out[c.name] = (this.trackers[i] as DeliveryTracker).toJSON();
    });
    return out;
  }
}
