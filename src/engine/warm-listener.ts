/**
 * The warm-up's throwaway MQTT listener (warm-up.ts, warm-engine.ts): it speaks just enough of the
 * server's side for herd's devices to run their connect and telemetry code — CONNECT → CONNACK,
 * SUBSCRIBE → SUBACK, PUBLISH → PUBACK (QoS 1) or PUBREC…PUBCOMP (QoS 2), the PUBLISH delivered back
 * on its own connection when that connection subscribed to a matching filter (the echo a device
 * subscribes to its own topic for), PINGREQ → PINGRESP, DISCONNECT → close (the listener closes
 * first: TIME_WAIT stays on its side). Anything else ends the connection. It only ever listens on
 * 127.0.0.1, and keeps per connection at most one partial packet, a few subscriptions and a bounded
 * send queue, so no peer can make it grow without bound.
 */
import * as net from 'node:net';
import * as mqtt from 'mqtt-packet';
import { decodeFrame } from '../protocols/mqtt/decode.js';
import { FrameSplitter, type FrameSink } from '../protocols/mqtt/frames.js';

/** Largest packet taken: a publish of the schema's largest payload (256 KiB) and a long topic. */
const MAX_PACKET_BYTES = 512 * 1024;
/** Subscriptions kept per connection: a device subscribes once, to its own topic (and maybe two more). */
const MAX_SUBSCRIPTIONS = 8;
/** Unsent bytes past which the peer is not reading: the connection is ended, not buffered for. */
const MAX_UNSENT_BYTES = 1024 * 1024;

const CONNACK_OK = Buffer.from([0x20, 0x02, 0x00, 0x00]);
/** MQTT 5: the same, with an empty property list. */
const CONNACK_OK_V5 = Buffer.from([0x20, 0x03, 0x00, 0x00, 0x00]);
const PINGRESP = Buffer.from([0xd0, 0x00]);

/** The CONNACK accepting a CONNECT of this protocol level (3 and 4 share 3.1.1's). */
export function connackFor(protocolVersion: number): Buffer {
  return protocolVersion === 5 ? CONNACK_OK_V5 : CONNACK_OK;
}

/** Whether MQTT topic filter `filter` matches topic `topic` ('+' one level, '#' the rest). */
export function topicMatches(filter: string, topic: string): boolean {
  if (filter === topic) return true;
  const f = filter.split('/');
  const t = topic.split('/');
  // A filter starting with a wildcard never matches a "$" topic (MQTT §4.7.2).
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return i === f.length - 1;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}

export interface ListenerOptions {
  /** A connection's PUBLISH count that calls onPublishes (once per connection). */
  publishesPerConnection?: number;
  /** A connection has sent publishesPerConnection PUBLISHes: a warm-up round waits for its devices' telemetry. */
  onPublishes?: () => void;
}

interface Subscription {
  filter: string;
  qos: 0 | 1 | 2;
}

/** One accepted connection: its protocol level once its CONNECT is read, and its subscriptions. */
class Peer implements FrameSink {
  /** 0 until the CONNECT: then its level (4 or 5), which the later packets are decoded with. */
  private version: 0 | 4 | 5 = 0;
  private readonly subs: Subscription[] = [];
  /** Packet ids of the deliveries this side sends (its own namespace, MQTT §2.2.1). */
  private nextId = 0;
  private publishes = 0;
  private readonly frames = new FrameSplitter(MAX_PACKET_BYTES);

  constructor(
    private readonly socket: net.Socket,
    private readonly listener: ThrowawayListener,
  ) {}

  data(chunk: Buffer): void {
    // Every answer to one read goes out in one write: a write per PUBACK and per delivery was most
    // of the listener's cost (one syscall each).
    this.socket.cork();
    this.frames.push(chunk, this);
    this.socket.uncork();
  }

  onFrameError(): void {
    this.socket.destroy();
  }

  onPacket(_first: number, _body: Buffer, frame: Buffer): void {
    if (this.socket.destroyed) return;
    // A CONNECT is read at its own level whatever the parser's (mqtt-packet reads it from the packet).
    const d = decodeFrame(frame, this.version === 0 ? 4 : this.version);
    const p = d.packet;
    if (p === null) return this.drop();
    if (this.version === 0) {
      if (p.cmd !== 'connect') return this.drop();
      this.version = p.protocolVersion === 5 ? 5 : 4;
      return this.send(connackFor(this.version));
    }
    switch (p.cmd) {
      case 'publish':
        return this.onPublish(p);
      case 'subscribe':
        return this.onSubscribe(p);
      case 'pubrel': // the device's QoS 2 publish released
        return this.ack('pubcomp', p.messageId ?? 0);
      case 'pubrec': // the device received a QoS 2 delivery
        return this.ack('pubrel', p.messageId ?? 0);
      case 'puback':
      case 'pubcomp':
        return; // the device acknowledged a delivery: nothing is kept for it
      case 'pingreq':
        return this.send(PINGRESP);
      case 'disconnect':
        return this.drop(); // closing first: TIME_WAIT stays on this side, not on herd's source ports
      default:
        return this.drop(); // a second CONNECT, a server's packet, UNSUBSCRIBE, AUTH: not herd's
    }
  }

  private onPublish(p: mqtt.IPublishPacket): void {
    if (++this.publishes === this.listener.publishesPerConnection) {
      this.listener.publishers++;
      this.listener.onPublishes?.();
    }
    this.listener.publishes++;
    if (p.qos === 1) this.ack('puback', p.messageId ?? 0);
    else if (p.qos === 2) this.ack('pubrec', p.messageId ?? 0);
    // Delivered once, at the highest QoS a matching subscription granted (capped by the publish's).
    let granted = -1;
    for (const s of this.subs) if (s.qos > granted && topicMatches(s.filter, p.topic)) granted = s.qos;
    if (granted < 0 || this.socket.destroyed) return;
    const qos = Math.min(granted, p.qos) as 0 | 1 | 2;
    const out: mqtt.IPublishPacket = {
      cmd: 'publish',
      topic: p.topic,
      payload: p.payload,
      qos,
      dup: false,
      retain: false,
    };
    if (qos > 0) out.messageId = this.nextId = (this.nextId % 0xffff) + 1;
    this.send(mqtt.generate(out, { protocolVersion: this.version }));
    this.listener.deliveries++;
  }

  private onSubscribe(p: mqtt.ISubscribePacket): void {
    const granted: number[] = [];
    for (const s of p.subscriptions) {
      granted.push(s.qos);
      // MQTT 5 no-local: never delivered back to this connection, the only one this listener delivers to.
      if (s.nl === true) continue;
      const same = this.subs.findIndex((k) => k.filter === s.topic);
      if (same >= 0) this.subs.splice(same, 1); // a repeated filter replaces its subscription (§3.8.4)
      if (this.subs.length >= MAX_SUBSCRIPTIONS) return this.drop();
      this.subs.push({ filter: s.topic, qos: s.qos });
    }
    const suback: mqtt.ISubackPacket = { cmd: 'suback', messageId: p.messageId ?? 0, granted };
    this.send(mqtt.generate(suback, { protocolVersion: this.version }));
  }

  private ack(cmd: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp', messageId: number): void {
    // reasonCode 0 with MQTT 5: the two-byte form, success implied (the spec's PUBACK variable header).
    const packet = { cmd, messageId, reasonCode: 0 } as mqtt.Packet;
    this.send(mqtt.generate(packet, { protocolVersion: this.version }));
  }

  private send(bytes: Buffer): void {
    if (this.socket.destroyed) return;
    this.socket.write(bytes);
    if (this.socket.writableLength > MAX_UNSENT_BYTES) this.drop();
  }

  private drop(): void {
    this.frames.stop();
    this.socket.destroy();
  }
}

/** A loopback MQTT listener for the warm-up (see above); close() ends every connection and the server. */
export class ThrowawayListener {
  readonly server: net.Server;
  readonly sockets = new Set<net.Socket>();
  readonly publishesPerConnection: number;
  readonly onPublishes: (() => void) | undefined;
  /** PUBLISHes received, and delivered back, over the listener's life. */
  publishes = 0;
  deliveries = 0;
  /** Connections that sent publishesPerConnection PUBLISHes. */
  publishers = 0;

  private constructor(o: ListenerOptions) {
    this.publishesPerConnection = o.publishesPerConnection ?? 0;
    this.onPublishes = o.onPublishes;
    this.server = net.createServer((s) => {
      const peer = new Peer(s, this);
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.setNoDelay(true);
      s.on('error', () => s.destroy());
      s.on('data', (chunk: Buffer) => peer.data(chunk));
    });
  }

  /** Listens on 127.0.0.1, on a port of the kernel's choosing. */
  static open(o: ListenerOptions = {}): Promise<ThrowawayListener> {
    const l = new ThrowawayListener(o);
    return new Promise((resolve, reject) => {
      l.server.once('error', reject);
      l.server.listen(0, '127.0.0.1', () => resolve(l));
    });
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Ends whatever is still connected (nothing of the warm-up outlives it), then closes the server. */
  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
