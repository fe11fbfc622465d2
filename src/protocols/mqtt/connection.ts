/**
 * A lean MQTT device connection (3.1.1 or 5) over any registered transport: one pre-built CONNECT,
 * bounded frame splitting, hand-decoded CONNACK/PINGRESP, everything else decoded by the shared
 * mqtt-packet parser, and shared handler functions instead of per-socket closures. It reports to
 * its owner; it never throws on wire failures and never retries on its own.
 */
import { connackFailure, disconnectFailure, type Failure } from '../classify.js';
import { LinkedDevice, type ConnState } from '../device-base.js';
import type { Device, DeviceOwner, InboundMessage, MqttSession } from '../device.js';
import type { NameCache } from '../names.js';
import type { TransportScheme } from '../registry.js';
import type { ResolvedTls } from '../transports/tls-options.js';
import { connectProtocolVersion } from './connect-packet.js';
import { decodeFrame } from './decode.js';
import {
  DISCONNECT_V4,
  FRAMES_FAILED,
  PACKET,
  PINGREQ,
  splitFrames,
  type FrameError,
  type FrameGuard,
  type FrameSink,
} from './frames.js';
import { handleMessagingPacket, publish, subscribe } from './messaging.js';
import { Inflight } from './inflight.js';
import { readSignalBody, type ServerSignal } from './server-signals.js';

export type { ConnState };
export type { InboundMessage };

export interface MqttConnectOptions {
  /** Host name or IP; a name adds a dns phase to every attempt. */
  host: string;
  port: number;
  localAddress: string | undefined;
  connectPacket: Buffer;
  connectTimeoutMs: number;
  /** Largest inbound packet accepted; bigger is MQTT_PACKET_TOO_LARGE (also caps bytes buffered). */
  maxPacketBytes: number;
  /** Transport: mqtt (TCP, default), mqtts (TLS), ws, wss (MQTT over WebSocket). */
  scheme?: TransportScheme;
  /** WebSocket path; default "/mqtt". */
  path?: string;
  /** Required for mqtts and wss (resolveTls()). */
  tls?: ResolvedTls;
  /** Extra headers on the WebSocket upgrade request. */
  wsHeaders?: Record<string, string>;
  /** Cap on QoS 1/2 exchanges in flight each way (default 64; lowered to the server's Receive Maximum). */
  maxInflight?: number;
  /** Cap on bytes queued for sending; publish() refuses past it, acks past it drop the session. Default 256 KiB. */
  maxBufferedBytes?: number;
  /** The target's shared answers for a host name (PreparedTarget.names). */
  names?: NameCache | null;
}

/** publish()/subscribe() could not send: not connected, in-flight cap or send buffer full. */
export const SEND_REFUSED = -1;

const DEFAULT_MAX_INFLIGHT = 64;
const DEFAULT_MAX_BUFFERED_BYTES = 256 * 1024;
/** How long a clean end waits for the server to close first before forcing it. */
export const CLOSE_GRACE_MS = 3_000;

export class MqttConnection extends LinkedDevice implements Device, MqttSession, FrameSink, FrameGuard {
  readonly protocolVersion: 4 | 5;
  /** CONNACK session-present flag (meaningful on a reconnect with a persistent session). */
  sessionPresent = false;
  /** issue 16: the last MQTT 5 CONNACK/DISCONNECT signal, read by the owner (src/engine/steering.ts). */
  serverSignal: ServerSignal | null = null;
  protected get protocolPhase(): 'mqttConnack' {
    return 'mqttConnack';
  }
  private readonly owner: DeviceOwner;
  /** A partial inbound packet, only while there is one (frames.ts); the flag stops reading for good. */
  private framesPending: Buffer | null = null;
  framesStopped = false;
  private readonly maxPacketBytes: number;
  private connectPacket: Buffer | null;
  /** Created on first use (see inflight.ts). */
  inflight: Inflight | null = null;
  private inflightCap: number;
  readonly maxBufferedBytes: number;

  constructor(owner: DeviceOwner, deviceId: number, o: MqttConnectOptions) {
    const scheme = o.scheme ?? 'mqtt';
    super(owner, deviceId, scheme);
    this.owner = owner;
    this.connectPacket = o.connectPacket;
    this.protocolVersion = connectProtocolVersion(o.connectPacket);
    this.maxPacketBytes = o.maxPacketBytes;
    this.inflightCap = o.maxInflight ?? DEFAULT_MAX_INFLIGHT;
    this.maxBufferedBytes = o.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.start({
      scheme,
      host: o.host,
      port: o.port,
      path: o.path ?? '/mqtt',
      localAddress: o.localAddress,
      connectTimeoutMs: o.connectTimeoutMs,
      names: o.names,
      ctx: {
        tls: o.tls ?? null,
        deviceKey: deviceId,
        subprotocol: 'mqtt',
        maxMessageBytes: o.maxPacketBytes,
        headers: o.wsHeaders,
      },
    });
  }

  /** This device's MQTT session (the engine's Device interface; null for non-MQTT devices). */
  get mqtt(): MqttConnection {
    return this;
  }

  /** µs since origin when CONNACK (accepted) arrived; NaN before. */
  get connackUs(): number {
    return this.readyUs;
  }

  /** Bytes held for this connection: a partial inbound packet plus unsent outbound bytes. */
  get bufferedBytes(): number {
    return (this.framesPending?.length ?? 0) + (this.link?.bufferedWriteBytes ?? 0);
  }

  /** Sends PINGREQ unless one is outstanding; the owner checks `pingSentUs` for a missing answer. */
  ping(): void {
    if (this.state !== 'connected' || this.link === null || !Number.isNaN(this.pingSentUs)) return;
    this.pingSentUs = this.clock.now();
    this.link.write(PINGREQ);
  }

  /**
   * Ends the session cleanly: DISCONNECT, then wait for the server to close first so TIME_WAIT
   * stays on its side (whoever closes first keeps it, 60 s), forcing the close after CLOSE_GRACE_MS.
   */
  end(): void {
    if (this.state === 'closed' || this.state === 'closing') return;
    if (this.state !== 'connected' || this.link === null) {
      this.abort();
      return;
    }
    // 0xE0 0x00 is a valid DISCONNECT in 3.1.1 and, in MQTT 5, reason 0 "normal disconnection".
    this.link.write(DISCONNECT_V4);
    this.closeAfter(CLOSE_GRACE_MS);
  }

  /** SUBSCRIBE to `topics` at `qos`: the packet id, or SEND_REFUSED. SUBACK → owner.onSubscribed. */
  subscribe(topics: readonly string[], qos: 0 | 1 | 2): number {
    return subscribe(this, topics, qos);
  }

  /**
   * PUBLISH: 0 for QoS 0, the packet id for QoS 1/2 (PUBACK/PUBCOMP → owner.onPublished), or
   * SEND_REFUSED when not connected, at the in-flight cap, or the send buffer is full.
   */
  publish(topic: string, payload: Buffer, qos: 0 | 1 | 2, retain = false, tag = 0, dup = false): number {
    return publish(this, topic, payload, qos, retain, tag, dup);
  }

  /** Writes bytes for the messaging layer; false (and nothing written) past the send-buffer cap. */
  send(bytes: Buffer): boolean {
    if (this.link === null || this.state !== 'connected') return false;
    if (this.link.bufferedWriteBytes + bytes.length > this.maxBufferedBytes) return false;
    this.link.write(bytes);
    return true;
  }

  /** The session's in-flight table, created on first use. */
  table(): Inflight {
    if (this.inflight === null) this.inflight = new Inflight(this.inflightCap);
    return this.inflight;
  }

  /** The owner's callbacks, for the messaging layer. */
  get ownerRef(): DeviceOwner {
    return this.owner;
  }

  /** Drops the session because the peer broke the protocol or flooded us (messaging layer). */
  violate(code: string, origin: Failure['origin'] = 'protocol'): void {
    this.stopFrames();
    if (origin === 'protocol') this.protocolFailure(code);
    else if (this.state === 'connected') this.lose({ origin, phase: 'held', code });
  }

  // ---- transport events ----

  linkReady(): void {
    if (this.state !== 'handshaking' || this.link === null || this.connectPacket === null) return;
    this.link.write(this.connectPacket);
    this.connectPacket = null;
  }

  linkData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    this.pingSentUs = NaN;
    if (this.framesStopped) return;
    const pending = this.framesPending;
    this.framesPending = null;
    const rest = splitFrames(
      pending === null ? chunk : Buffer.concat([pending, chunk]),
      this.maxPacketBytes,
      this,
      this,
    );
    if (rest !== FRAMES_FAILED && !this.framesStopped) this.framesPending = rest;
  }

  stopFrames(): void {
    this.framesStopped = true;
    this.framesPending = null;
  }

  onPacket(firstByte: number, body: Buffer, frame: Buffer): void {
    const type = firstByte >> 4;
    if (this.state === 'handshaking') return this.onHandshakePacket(type, body);
    if (this.state !== 'connected' && this.state !== 'closing') return;
    if (type === PACKET.PINGRESP) return; // linkData already took it as an answer
    if (type === PACKET.DISCONNECT) {
      // Server-initiated DISCONNECT: in MQTT 5 the reason code says why (0x89/0x9F = shedding).
      if (this.state !== 'connected') return;
      // Reserved flags set (§2.2.2): malformed, as the native core says too.
      if (firstByte !== 0xe0) return this.violate('MQTT_MALFORMED_PACKET');
      const rc = body.length > 0 ? (body[0] as number) : 0;
      if (this.protocolVersion === 5) this.serverSignal = readSignalBody(14, body)?.signal ?? null; // issue 16
      this.lose(disconnectFailure(rc));
      return;
    }
    const d = decodeFrame(frame, this.protocolVersion);
    if (d.error !== null) return this.violate('MQTT_MALFORMED_PACKET');
    handleMessagingPacket(this, d.packet);
  }

  onFrameError(code: FrameError): void {
    this.protocolFailure(code);
  }

  private onHandshakePacket(type: number, body: Buffer): void {
    if (type !== PACKET.CONNACK || body.length < 2) return this.violate('MQTT_UNEXPECTED_PACKET');
    const rc = body[1] as number;
    // issue 16: the signal, read by the rules the native core's reader follows too (server-signals.ts).
    const read = this.protocolVersion === 5 ? readSignalBody(2, body) : null;
    if (rc !== 0) {
      this.serverSignal = read?.signal ?? null;
      this.failAttempt(connackFailure(rc));
      return;
    }
    if (this.protocolVersion === 5) {
      if (read === null) return this.violate('MQTT_MALFORMED_PACKET');
      this.serverSignal = read.signal;
      const rm = read.receiveMaximum;
      // The server's Receive Maximum bounds how many QoS 1/2 publishes we may have in flight.
      if (rm !== null && rm < this.inflightCap) this.inflightCap = rm;
    }
    this.sessionPresent = ((body[0] as number) & 1) === 1;
    this.markReady();
    this.owner.onConnected(this);
  }

  // ---- reports ----

  protected reportFailed(f: Failure): void {
    this.stopFrames();
    this.owner.onFailed(this, f);
  }

  protected reportLost(f: Failure): void {
    this.stopFrames();
    this.owner.onLost(this, f);
  }

  protected reportClosed(): void {
    this.owner.onClosed(this);
  }
}
