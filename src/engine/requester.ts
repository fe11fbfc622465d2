/**
 * Cloud → device requests, the "call a function on a device" primitive. Per target endpoint a
 * requester connection — the cloud's side, not part of the measured fleet — publishes requests
 * on each ready device's request topic; the device answers on its reply topic, and the requester
 * records the round trip. Unanswered requests are counted lost. The same connection carries the
 * cloud's downlink messages (downlink.ts). It pings at half its keepalive so the target never drops
 * it as idle during a long run.
 */
import { SEND_REFUSED, type MqttConnection } from '../protocols/mqtt/connection.js';
import { buildConnect } from '../protocols/mqtt/connect-packet.js';
import { openMqtt } from '../protocols/mqtt/kind.js';
import { decodePayload, encodePayload } from '../protocols/payload.js';
import type { Failure } from '../protocols/classify.js';
import type { Device, DeviceOwner, InboundMessage, PreparedTarget } from '../protocols/device.js';
import type { Recorder } from '../metrics/recorder.js';
import type { EngineClock, TimerHandle } from '../util/clock.js';

export interface RequesterHost {
  now(): number;
  /** The engine's timers (the retry after a lost requester connection). */
  clock: EngineClock;
  runId: string;
  workerIndex: number;
  maxPacketBytes: number;
  rec: Recorder;
  /** Attributes what follows to the second `nowUs` is in (the runner's recorder clock). */
  at(nowUs: number): void;
  /** Called once the requester is subscribed to replies: requests may flow. */
  onReady(): void;
  /** The target acknowledged (PUBACK / PUBCOMP) the downlink message sent with `tag`. */
  onAcked?(tag: number): void;
}

/** Topics of one device: where the cloud asks and where the device answers. */
export function requestTopic(runId: string, id: number): string {
  return `herd/${runId}/${id}/req`;
}
export function replyTopic(runId: string, worker: number, id: number): string {
  return `herd/${runId}/w${worker}/${id}/res`;
}

const RETRY_MS = 1_000;
const KEEPALIVE_S = 60;
const PING_EVERY_MS = (KEEPALIVE_S * 1000) / 2;

export class Requester implements DeviceOwner {
  private conn: MqttConnection | null = null;
  private ready = false;
  private stopped = false;
  private readonly host: RequesterHost;
  private readonly target: PreparedTarget;
  private readonly qos: 0 | 1 | 2;
  private retry: TimerHandle | null = null;
  private pinger: TimerHandle | null = null;

  constructor(host: RequesterHost, target: PreparedTarget, qos: 0 | 1 | 2) {
    this.host = host;
    this.target = target;
    this.qos = qos;
  }

  now(): number {
    return this.host.now();
  }

  start(): void {
    if (this.stopped) return;
    const clientId = `herd-${this.host.runId}-requester-${this.host.workerIndex}-${this.target.endpoint.port}`;
    this.conn = openMqtt(
      this.target,
      {
        deviceId: -1,
        localAddress: undefined,
        connectTimeoutMs: 10_000,
        maxPacketBytes: this.host.maxPacketBytes,
        connectPacket: buildConnect({
          clientId,
          username: null,
          password: null,
          keepaliveS: KEEPALIVE_S,
          clean: true,
          protocolVersion: 4,
        }),
      },
      this,
    );
  }

  get isReady(): boolean {
    return this.ready && this.conn !== null && this.conn.state === 'connected';
  }

  /** Sends one request to device `id`; false when it could not be sent. */
  request(id: number, seq: number, payloadBytes: number): boolean {
    if (!this.isReady || this.conn === null) return false;
    const payload = encodePayload({ deviceId: id, seq, sentUs: this.now() }, payloadBytes);
    return this.conn.publish(requestTopic(this.host.runId, id), payload, this.qos) !== SEND_REFUSED;
  }

  /** Publishes one downlink message; false when it could not be sent. `tag` comes back on its acknowledgement. */
  send(topic: string, payload: Buffer, qos: 0 | 1 | 2, tag = 0): boolean {
    if (!this.isReady || this.conn === null) return false;
    return this.conn.publish(topic, payload, qos, false, tag) !== SEND_REFUSED;
  }

  onPublished(_d: Device, _id: number, _qos: 1 | 2, _latencyUs: number, reasonCode: number, tag = 0): void {
    if (tag !== 0 && reasonCode < 0x80) this.host.onAcked?.(tag);
  }

  stop(): void {
    this.stopped = true;
    if (this.retry !== null) this.host.clock.clearTimeout(this.retry);
    this.stopPinging();
    this.conn?.end();
  }

  onConnected(): void {
    this.conn?.subscribe([`herd/${this.host.runId}/w${this.host.workerIndex}/+/res`], this.qos);
    this.stopPinging();
    this.pinger = this.host.clock.setTimeout((r) => r.ping(), PING_EVERY_MS, this);
  }

  private ping(): void {
    this.pinger = null;
    if (this.stopped || this.conn === null) return;
    this.conn.ping();
    this.pinger = this.host.clock.setTimeout((r) => r.ping(), PING_EVERY_MS, this);
  }

  private stopPinging(): void {
    if (this.pinger !== null) this.host.clock.clearTimeout(this.pinger);
    this.pinger = null;
  }

  onSubscribed(): void {
    this.ready = true;
    this.host.onReady();
  }

  onMessage(_d: Device, m: InboundMessage): void {
    const stamp = decodePayload(m.payload);
    if (stamp === null) return;
    this.host.at(m.receivedUs);
    this.host.rec.counters.requestsAnswered++;
    this.host.rec.record('request.roundTrip', m.receivedUs - stamp.sentUs);
  }

  onFailed(_d: Device, _f: Failure): void {
    this.again();
  }

  onLost(_d: Device, _f: Failure): void {
    this.again();
  }

  onClosed(): void {
    this.conn = null;
  }

  /** The requester is harness infrastructure: it simply tries again, outside the measurements. */
  private again(): void {
    this.ready = false;
    this.stopPinging();
    this.conn = null;
    if (!this.stopped) this.retry = this.host.clock.setTimeout((r) => r.start(), RETRY_MS, this);
  }
}
