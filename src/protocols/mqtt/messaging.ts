/**
 * Messaging on a connected MQTT session: SUBSCRIBE/SUBACK, PUBLISH at QoS 0/1/2 with PUBACK or
 * PUBREC→PUBREL→PUBCOMP, and inbound PUBLISH answered as a client must (PUBACK, or PUBREC then
 * PUBCOMP on PUBREL). Latencies are µs from the write to the acknowledgement. Every table is capped
 * (inflight.ts); a peer that overruns a cap loses its session with a classified error.
 */
import * as mqtt from 'mqtt-packet';
import type { Failure } from '../classify.js';
import type { Device, DeviceOwner, InboundMessage } from '../device.js';
import { AWAIT, type Inflight } from './inflight.js';

export type { InboundMessage };

/** What messaging needs of a connected session (MqttConnection is one). */
export interface MessagingSession extends Device {
  readonly protocolVersion: 4 | 5;
  readonly clock: { now(): number };
  readonly inflight: Inflight | null;
  /** The session's in-flight table, created on first use. */
  table(): Inflight;
  /** Writes bytes; false (and nothing written) past the send-buffer cap or when not connected. */
  send(bytes: Buffer): boolean;
  /** Drops the session because the peer broke the protocol or flooded us. */
  violate(code: string, origin?: Failure['origin']): void;
  readonly ownerRef: DeviceOwner;
}

const REFUSED = -1;

/** SUBSCRIBE; returns its packet id, or -1 when it could not be sent. */
export function subscribe(c: MessagingSession, topics: readonly string[], qos: 0 | 1 | 2): number {
  if (c.state !== 'connected' || topics.length === 0) return REFUSED;
  const t = c.table();
  const id = t.allocate(AWAIT.SUBACK, qos, c.clock.now());
  if (id === 0) return REFUSED;
  const bytes = mqtt.generate(
    { cmd: 'subscribe', messageId: id, subscriptions: topics.map((topic) => ({ topic, qos })) },
    { protocolVersion: c.protocolVersion },
  );
  if (!c.send(bytes)) {
    t.finish(id);
    return REFUSED;
  }
  return id;
}

/**
 * PUBLISH; returns 0 for QoS 0, the packet id for QoS 1/2, or -1 when it could not be sent. `dup`:
 * a resend of a message an earlier session sent and never had acknowledged (MQTT §4.4).
 */
export function publish(
  c: MessagingSession,
  topic: string,
  payload: Buffer,
  qos: 0 | 1 | 2,
  retain = false,
  tag = 0,
  dup = false,
): number {
  if (c.state !== 'connected') return REFUSED;
  let id = 0;
  if (qos > 0) {
    id = c.table().allocate(qos === 1 ? AWAIT.PUBACK : AWAIT.PUBREC, qos, c.clock.now(), tag);
    if (id === 0) return REFUSED;
  }
  const packet: mqtt.IPublishPacket = { cmd: 'publish', topic, payload, qos, dup: dup && qos > 0, retain };
  if (id !== 0) packet.messageId = id;
  const bytes = mqtt.generate(packet, { protocolVersion: c.protocolVersion });
  if (!c.send(bytes)) {
    if (id !== 0) c.table().finish(id);
    return REFUSED;
  }
  return id;
}

/** Handles one decoded non-handshake packet. */
export function handleMessagingPacket(c: MessagingSession, p: mqtt.Packet): void {
  switch (p.cmd) {
    case 'publish':
      return onPublish(c, p);
    case 'puback':
      return onAck(c, p.messageId ?? 0, AWAIT.PUBACK, p.reasonCode ?? 0);
    case 'pubrec':
      return onPubrec(c, p.messageId ?? 0, p.reasonCode ?? 0);
    case 'pubcomp':
      return onAck(c, p.messageId ?? 0, AWAIT.PUBCOMP, p.reasonCode ?? 0);
    case 'pubrel':
      return onPubrel(c, p.messageId ?? 0);
    case 'suback':
      return onSuback(c, p);
    case 'unsuback':
      c.inflight?.finish(p.messageId ?? 0);
      return;
    case 'auth':
      return; // enhanced authentication is not something herd's devices start
    default:
      // CONNECT, SUBSCRIBE, PINGREQ… are client→server packets: a server must not send them.
      c.violate('MQTT_UNEXPECTED_PACKET');
  }
}

function onPublish(c: MessagingSession, p: mqtt.IPublishPacket): void {
  const id = p.messageId ?? 0;
  if (p.qos === 2) {
    const r = c.table().receiveQos2(id);
    if (r === 'full') return c.violate('MQTT_RECEIVE_MAXIMUM_EXCEEDED');
    if (!ack(c, 'pubrec', id)) return;
    if (r === 'duplicate') return; // delivered when first received; PUBREL will release it
  } else if (p.qos === 1) {
    if (!ack(c, 'puback', id)) return;
  }
  // Copied: the bytes live in the process-wide read buffer (transports/tcp.ts), which the next read
  // overwrites; an owner may keep a message past this call.
  const payload = Buffer.from(typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload);
  c.ownerRef.onMessage?.(c, {
    topic: p.topic,
    payload,
    qos: p.qos,
    retain: p.retain,
    dup: p.dup,
    receivedUs: c.clock.now(),
  });
}

function onPubrel(c: MessagingSession, id: number): void {
  c.inflight?.release(id);
  // Answer even for an unknown id: the server may be retrying after we lost state.
  ack(c, 'pubcomp', id);
}

function onPubrec(c: MessagingSession, id: number, reasonCode: number): void {
  const t = c.inflight;
  const pending = t?.peek(id, AWAIT.PUBREC);
  if (t === null || pending === undefined) {
    // Already past PUBREC (a retransmission): repeat PUBREL as the spec asks, else ignore.
    if (t?.peek(id, AWAIT.PUBCOMP) !== undefined) ack(c, 'pubrel', id);
    return;
  }
  if (reasonCode >= 0x80) {
    // MQTT 5: the server refused the message; the exchange ends here.
    t.finish(id);
    c.ownerRef.onPublished?.(c, id, 2, c.clock.now() - pending.sentUs, reasonCode, pending.tag);
    return;
  }
  pending.awaiting = AWAIT.PUBCOMP;
  ack(c, 'pubrel', id);
}

type AckKind = typeof AWAIT.PUBACK | typeof AWAIT.PUBCOMP;

function onAck(c: MessagingSession, id: number, kind: AckKind, reasonCode: number): void {
  const pending = c.inflight?.peek(id, kind);
  if (pending === undefined) return; // late or unknown: nothing waits for it
  c.inflight?.finish(id);
  const qos = kind === AWAIT.PUBACK ? 1 : 2;
  c.ownerRef.onPublished?.(c, id, qos, c.clock.now() - pending.sentUs, reasonCode, pending.tag);
}

function onSuback(c: MessagingSession, p: mqtt.ISubackPacket): void {
  const id = p.messageId ?? 0;
  const pending = c.inflight?.peek(id, AWAIT.SUBACK);
  if (pending === undefined) return;
  c.inflight?.finish(id);
  const granted = p.granted.map((g) => (typeof g === 'number' ? g : ((g as { qos?: number }).qos ?? 0x80)));
  c.ownerRef.onSubscribed?.(c, id, granted, c.clock.now() - pending.sentUs);
}

/** Writes an acknowledgement; a send buffer full of unread acks means the peer stopped reading. */
function ack(c: MessagingSession, cmd: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp', id: number): boolean {
  const bytes = mqtt.generate({ cmd, messageId: id } as mqtt.Packet, { protocolVersion: c.protocolVersion });
  if (c.send(bytes)) return true;
  if (c.state === 'connected') c.violate('SEND_BUFFER_FULL', 'network');
  return false;
}
