/**
 * A packet-level bridge between one client connection and aedes, for the connections the front
 * must see past the CONNECT: MQTT 5 clients (aedes speaks 3.1.1 only — ADR 0005) and clients under
 * a per-connection publish limit. Client packets are parsed in the client's version and written
 * to aedes as 3.1.1; aedes' packets are parsed as 3.1.1 and written back in the client's version.
 * The bridge is also where the target speaks for itself: MQTT 5 DISCONNECT with a reason code,
 * CONNACK properties (Server Keep Alive), and publish throttling (QoS 0 dropped, QoS 1/2 never
 * acknowledged, or DISCONNECT 0x96 for MQTT 5 clients when the profile says so).
 */
import { Duplex } from 'node:stream';
import * as mqtt from 'mqtt-packet';
import { TokenBucket } from './admission.js';
import type { TargetMetricsSnapshot } from './metrics.js';

/** MQTT 3.1.1 CONNACK return codes → MQTT 5 CONNACK reason codes (the CONNACK tables of MQTT 3.1.1 and MQTT 5). */
const V4_TO_V5_CONNACK: Readonly<Record<number, number>> = { 0: 0x00, 1: 0x84, 2: 0x85, 3: 0x88, 4: 0x86, 5: 0x87 };

export const MQTT5_DISCONNECT = {
  sessionTakenOver: 0x8e,
  messageRateTooHigh: 0x96,
  quotaExceeded: 0x97,
  useAnotherServer: 0x9c,
  serverMoved: 0x9d,
} as const;

export interface BridgePolicy {
  /** PUBLISH packets per second per connection; null = no limit. */
  publishesPerS: number | null;
  /** Over the limit: drop (QoS 0 gone, QoS 1/2 never acknowledged) or, for MQTT 5, DISCONNECT 0x96. */
  publishThrottle: 'drop' | 'disconnect';
  /** A client keepalive above this (or 0) gets this as Server Keep Alive (MQTT 5); null = accept any. */
  keepaliveMaxS: number | null;
}

export interface BridgeHooks {
  metrics: TargetMetricsSnapshot;
  nowMs(): number;
  /** aedes takes the other end of the bridge. */
  handoff(stream: Duplex): void;
}

/** The CONNECT aedes sees: 3.1.1, properties dropped, a persistent session when one was asked for. */
export function connectForAedes(c: mqtt.IConnectPacket, keepaliveS: number): mqtt.IConnectPacket {
  const expiry = c.properties?.sessionExpiryInterval ?? 0;
  // MQTT 5 resumes a session only with Clean Start off and keeps it after a disconnect only with a
  // session expiry; 3.1.1 does both with clean=false. Clean Start on with an expiry (a fresh session
  // kept after this connection) has no 3.1.1 form: it is a clean session here (target.md).
  const clean = c.protocolVersion === 5 ? !(c.clean === false && expiry > 0) : c.clean !== false;
  const out: mqtt.IConnectPacket = {
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clientId: c.clientId,
    clean,
    keepalive: keepaliveS,
  };
  if (c.username !== undefined) out.username = c.username;
  if (c.password !== undefined) out.password = c.password;
  if (c.will)
    out.will = { topic: c.will.topic, payload: c.will.payload, qos: c.will.qos ?? 0, retain: c.will.retain ?? false };
  return out;
}

/** A client packet rewritten as 3.1.1 for aedes; null for packets 3.1.1 has no form for (AUTH). */
export function packetForAedes(p: mqtt.Packet): mqtt.Packet | null {
  switch (p.cmd) {
    case 'publish':
      return {
        cmd: 'publish',
        topic: p.topic,
        payload: p.payload,
        qos: p.qos,
        retain: p.retain,
        dup: p.dup,
        ...(p.qos > 0 ? { messageId: p.messageId } : {}),
      } as mqtt.IPublishPacket;
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
      return { cmd: p.cmd, messageId: p.messageId } as mqtt.Packet;
    case 'subscribe':
      return {
        cmd: 'subscribe',
        messageId: p.messageId ?? 0,
        subscriptions: p.subscriptions.map((s) => ({ topic: s.topic, qos: s.qos })),
      };
    case 'unsubscribe':
      return { cmd: 'unsubscribe', messageId: p.messageId ?? 0, unsubscriptions: p.unsubscriptions };
    case 'pingreq':
    case 'disconnect':
      return { cmd: p.cmd };
    default:
      return null;
  }
}

/** An aedes packet rewritten in MQTT 5 for the client. */
export function packetForV5Client(p: mqtt.Packet, serverKeepAliveS: number | null): mqtt.Packet {
  if (p.cmd === 'connack') {
    const out: mqtt.IConnackPacket = {
      cmd: 'connack',
      sessionPresent: p.sessionPresent,
      reasonCode: V4_TO_V5_CONNACK[p.returnCode ?? 0] ?? 0x80,
    };
    if (serverKeepAliveS !== null) out.properties = { serverKeepAlive: serverKeepAliveS };
    return out;
  }
  // 3.1.1 SUBACK's 0x80 failure is MQTT 5's 0x80 "unspecified error"; QoS grants are the same bytes.
  return p;
}

export class MqttBridge {
  readonly version: 4 | 5;
  private readonly aedesSide: AedesSide;
  private readonly clientParser: ReturnType<typeof mqtt.parser>;
  private readonly aedesParser: ReturnType<typeof mqtt.parser>;
  private readonly bucket: TokenBucket | null;
  private readonly serverKeepAliveS: number | null;
  private ended = false;
  private connackSent = false;
  /**
   * QoS 1 messages sent to the client and not yet acknowledged. After a resumed session aedes may
   * send a message twice (the in-flight copy and the queued one) yet closes the connection on the
   * second PUBACK ("no such packet"); a client that acknowledges both copies is within its rights,
   * so the second PUBACK is dropped here.
   */
  private readonly awaitingAck = new Set<number>();
  /** A takeover that came before this session's CONNACK went out: it follows the CONNACK. */
  private takeOverAfterConnack: (() => void) | null = null;

  constructor(
    private readonly client: Duplex,
    connect: mqtt.IConnectPacket,
    firstBytes: Buffer,
    private readonly policy: BridgePolicy,
    private readonly hooks: BridgeHooks,
  ) {
    this.version = connect.protocolVersion === 5 ? 5 : 4;
    const asked = connect.keepalive ?? 0;
    const max = policy.keepaliveMaxS;
    this.serverKeepAliveS = this.version === 5 && max !== null && (asked === 0 || asked > max) ? max : null;
    this.bucket =
      policy.publishesPerS === null
        ? null
        : new TokenBucket(policy.publishesPerS, Math.max(1, policy.publishesPerS), hooks.nowMs());
    this.clientParser = mqtt.parser({ protocolVersion: this.version });
    this.aedesParser = mqtt.parser({ protocolVersion: 4 });
    this.aedesSide = new AedesSide(
      (b) => this.aedesParser.parse(b),
      () => this.endClient(),
    );
    let first = true;
    this.clientParser.on('packet', (p: mqtt.Packet) => {
      if (first && p.cmd === 'connect') {
        first = false;
        this.toAedes(connectForAedes(p, this.serverKeepAliveS ?? asked));
        return;
      }
      this.fromClient(p);
    });
    this.clientParser.on('error', () => this.disconnect(0x81)); // malformed packet
    this.aedesParser.on('packet', (p: mqtt.Packet) => this.toClient(p));
    this.aedesParser.on('error', () => this.disconnect(0x80));
    client.on('data', (b: Buffer) => this.clientParser.parse(b));
    client.on('end', () => this.aedesSide.push(null));
    client.on('close', () => {
      this.ended = true;
      if (!this.aedesSide.destroyed) this.aedesSide.destroy();
    });
    hooks.handoff(this.aedesSide);
    this.clientParser.parse(firstBytes);
  }

  /** Another connection took this client id: DISCONNECT 0x8E, and `then` once aedes has closed its side. */
  takeOver(then: () => void): void {
    // A broker answers a CONNECT before it acts on the next one for the same id: no DISCONNECT
    // before CONNACK (MQTT 5 allows nothing but AUTH there).
    if (!this.connackSent && !this.ended) {
      this.takeOverAfterConnack = then;
      return;
    }
    if (this.aedesSide.closed) setImmediate(then);
    else this.aedesSide.once('close', () => setImmediate(then));
    this.disconnect(MQTT5_DISCONNECT.sessionTakenOver);
  }

  /** The server ends the session: MQTT 5 clients get DISCONNECT with the reason (and properties). */
  disconnect(reasonCode: number, properties?: mqtt.IDisconnectPacket['properties']): void {
    if (this.ended) return;
    if (this.version === 5 && this.client.writable) {
      const d: mqtt.IDisconnectPacket = { cmd: 'disconnect', reasonCode, ...(properties ? { properties } : {}) };
      this.client.write(mqtt.generate(d, { protocolVersion: 5 }));
      const key = `0x${reasonCode.toString(16).padStart(2, '0')}`;
      this.hooks.metrics.serverDisconnectsTotal[key] = (this.hooks.metrics.serverDisconnectsTotal[key] ?? 0) + 1;
    }
    this.endClient();
    if (!this.aedesSide.destroyed) this.aedesSide.destroy();
  }

  private fromClient(p: mqtt.Packet): void {
    if (p.cmd === 'publish' && this.bucket !== null && !this.bucket.tryTake(this.hooks.nowMs())) {
      this.hooks.metrics.publishesThrottledTotal++;
      if (this.policy.publishThrottle === 'disconnect' && this.version === 5) {
        this.disconnect(MQTT5_DISCONNECT.messageRateTooHigh);
        return;
      }
      // AWS IoT's way: QoS 0 is gone without a word, QoS 1 never gets its PUBACK.
      if (p.qos > 0) this.hooks.metrics.pubacksWithheldTotal++;
      return;
    }
    if (p.cmd === 'puback' && !this.awaitingAck.delete(p.messageId ?? -1)) {
      this.hooks.metrics.duplicateAcksDroppedTotal++;
      return;
    }
    const out = this.version === 5 ? packetForAedes(p) : p;
    if (out !== null) this.toAedes(out);
  }

  private toAedes(p: mqtt.Packet): void {
    if (!this.aedesSide.destroyed) this.aedesSide.push(mqtt.generate(p, { protocolVersion: 4 }));
  }

  private toClient(p: mqtt.Packet): void {
    if (this.ended || !this.client.writable) return;
    const out = this.version === 5 ? packetForV5Client(p, this.serverKeepAliveS) : p;
    if (p.cmd === 'publish' && p.qos === 1 && p.messageId !== undefined) this.awaitingAck.add(p.messageId);
    this.client.write(mqtt.generate(out, { protocolVersion: this.version }));
    if (p.cmd !== 'connack') return;
    this.connackSent = true;
    const then = this.takeOverAfterConnack;
    this.takeOverAfterConnack = null;
    if (then !== null) this.takeOver(then);
  }

  private endClient(): void {
    if (this.ended) return;
    this.ended = true;
    const then = this.takeOverAfterConnack;
    this.takeOverAfterConnack = null;
    if (then !== null) setImmediate(then); // it ended before its CONNACK: nothing left to take over
    this.client.end();
    // A client that does not close after the server's goodbye is cut off, as a broker would.
    setTimeout(() => this.client.destroy(), 2_000).unref();
  }
}

/** The stream aedes reads and writes: bytes pushed to it are the client's, bytes written to it go back. */
class AedesSide extends Duplex {
  constructor(
    private readonly onBytes: (b: Buffer) => void,
    private readonly onGone: () => void,
  ) {
    super();
  }

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.onBytes(chunk);
    cb();
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.onGone();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.onGone();
    cb(err);
  }
}
