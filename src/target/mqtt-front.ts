/**
 * The thin layer in front of aedes. aedes speaks MQTT 3.1.1 only (1.x rejects protocol level 5
 * with 3.1.1 return code 1, which an MQTT 5 client cannot even parse), so this layer reads the
 * first packet itself, applies admission control and the modelled handshake cost, answers refusals with
 * the CONNACK the client's protocol version understands, and only then hands the stream to
 * aedes with the bytes pushed back (stream.unshift), so aedes parses the CONNECT as if first.
 */
import type { Duplex } from 'node:stream';
import * as mqtt from 'mqtt-packet';
import type { Admission, ShedReason } from './admission.js';
import type { RefusalReason, TargetMetricsSnapshot } from './metrics.js';
import { connectFrameLength, NEED_MORE, NOT_A_CONNECT, parseConnect } from './first-packet.js';
import { MqttBridge, type BridgePolicy } from './mqtt-bridge.js';
import type { ServiceQueue } from './service.js';
import type { ClientRegistry, ConnectThrottle, Session } from './throttle.js';

/** A CONNECT is small; anything bigger before the first packet completes is not a device. */
const MAX_FIRST_PACKET_BYTES = 64 * 1024;
/** After a refusal CONNACK, give the client this long to read it and close before we do. */
const LINGER_AFTER_REFUSAL_MS = 2_000;

export const MQTT5_REASON = {
  unsupportedProtocolVersion: 0x84,
  serverBusy: 0x89,
  connectionRateExceeded: 0x9f,
} as const;
/** MQTT 3.1/3.1.1 CONNACK return code 3: "server unavailable". */
export const MQTT3_SERVER_UNAVAILABLE = 3;

export interface FrontContext {
  admission: Admission;
  /** The modelled CONNECT service time (handshakeCostMs per admitted CONNECT, one at a time). */
  service: ServiceQueue;
  connectTimeoutMs: number;
  metrics: TargetMetricsSnapshot;
  handoff(stream: Duplex): void;
  /** Cloud-style limits (issue 16): CONNECT rates, who holds which client id, the bridge's policy. */
  throttle: ConnectThrottle;
  clients: ClientRegistry;
  bridge: BridgePolicy;
  nowMs(): number;
}

export function refusalConnack(protocolVersion: number, reason: ShedReason | 'unsupported_protocol'): Buffer {
  if (protocolVersion === 5) {
    const reasonCode =
      reason === 'rate_exceeded'
        ? MQTT5_REASON.connectionRateExceeded
        : reason === 'server_busy'
          ? MQTT5_REASON.serverBusy
          : MQTT5_REASON.unsupportedProtocolVersion;
    return mqtt.generate({ cmd: 'connack', reasonCode, sessionPresent: false }, { protocolVersion: 5 });
  }
  return mqtt.generate(
    { cmd: 'connack', returnCode: MQTT3_SERVER_UNAVAILABLE, sessionPresent: false },
    { protocolVersion: 4 },
  );
}

export function handleMqttStream(stream: Duplex, ctx: FrontContext): void {
  let chunks: Buffer[] = [];
  let bytes = 0;
  let settled = false;
  let gotFirst = false;
  ctx.metrics.handshakesInProgress++;

  const settle = (): boolean => {
    if (settled) return false;
    settled = true;
    clearTimeout(timer);
    stream.removeListener('readable', onReadable);
    stream.removeListener('close', onClose);
    ctx.metrics.handshakesInProgress--;
    return true;
  };
  const refuse = (reason: RefusalReason, connack: Buffer | null): void => {
    ctx.metrics.refusalsTotal[reason]++;
    if (connack === null || stream.destroyed || !stream.writable) {
      stream.destroy();
      return;
    }
    // end() not destroy(): destroying with unread bytes would send RST and could discard the CONNACK.
    stream.end(connack);
    setTimeout(() => stream.destroy(), LINGER_AFTER_REFUSAL_MS).unref();
  };
  const onClose = (): void => {
    settle();
  };
  const timer = setTimeout(() => {
    if (settle()) refuse('connect_timeout', null);
  }, ctx.connectTimeoutMs);
  timer.unref();

  const onConnect = (packet: mqtt.IConnectPacket): void => {
    const version = packet.protocolVersion ?? 4;
    const throttled = ctx.throttle.check(packet.clientId, ctx.nowMs());
    if (throttled !== null) {
      if (settle()) refuse(throttled, refusalConnack(version, 'rate_exceeded'));
      return;
    }
    ctx.admission.request({
      alive: () => !stream.destroyed && !stream.readableEnded,
      shed: (reason) => {
        if (!settle()) return;
        refuse(reason, refusalConnack(version, reason));
      },
      admit: () => {
        if (settled) return;
        // The service is spent even when the device gives up meanwhile: its answer is then dropped.
        ctx.service.submit(() => {
          if (!settle()) return;
          if (stream.destroyed || stream.readableEnded) {
            stream.destroy();
            return;
          }
          startSession(stream, packet, joined(), ctx);
        });
      },
    });
  };

  /** The bytes read so far as one buffer (the first packet and whatever came with it). */
  const joined = (): Buffer => {
    if (chunks.length > 1) chunks = [Buffer.concat(chunks, bytes)];
    return chunks[0] as Buffer;
  };
  /** The first packet's whole length once its fixed header has arrived. */
  let frameLength = NEED_MORE;
  function onReadable(): void {
    let chunk: Buffer | null;
    while (!gotFirst && !settled && (chunk = stream.read() as Buffer | null) !== null) {
      chunks.push(chunk);
      bytes += chunk.length;
      if (bytes > MAX_FIRST_PACKET_BYTES) {
        if (settle()) refuse('bad_first_packet', null);
        return;
      }
      // Until the length is known the bytes are a few (a fixed header is at most 5): cheap to join.
      if (frameLength === NEED_MORE) frameLength = connectFrameLength(joined());
      if (frameLength === NOT_A_CONNECT) {
        if (settle()) refuse('bad_first_packet', null);
        return;
      }
      if (frameLength === NEED_MORE || bytes < frameLength) continue;
      const all = joined();
      const packet = parseConnect(bytes === frameLength ? all : all.subarray(0, frameLength));
      if (packet === null) {
        if (settle()) refuse('bad_first_packet', null);
        return;
      }
      gotFirst = true;
      onConnect(packet);
    }
  }
  stream.on('readable', onReadable);
  stream.on('close', onClose);
  stream.on('error', () => {});
}

/**
 * An admitted CONNECT: straight to aedes when nothing needs to see its packets, else through the
 * bridge (MQTT 5, a persistent session, or a per-connection publish limit). Either way its client id is claimed, and a
 * connection holding it is taken over (MQTT 5: DISCONNECT 0x8E; 3.1.1: closed).
 */
function startSession(stream: Duplex, packet: mqtt.IConnectPacket, firstBytes: Buffer, ctx: FrontContext): void {
  // Persistent 3.1.1 sessions go through the bridge too: it keeps a duplicate PUBACK from aedes.
  const bridged =
    packet.protocolVersion === 5 ||
    packet.clean === false ||
    ctx.bridge.publishesPerS !== null ||
    ctx.bridge.keepaliveMaxS !== null;
  let bridge: MqttBridge | null = null;
  let started = false;
  /** A takeover that came while this session waited for its own predecessor to go: it follows the start. */
  let takenOverBeforeStart: (() => void) | null = null;
  const session: Session = {
    takenOver: (then) => {
      if (!started) takenOverBeforeStart = then;
      else if (bridge !== null) bridge.takeOver(then);
      else {
        // aedes holds it directly: close it as aedes would (3.1.1 has no server DISCONNECT), first.
        if (stream.closed) setImmediate(then);
        else stream.once('close', () => setImmediate(then));
        stream.destroy();
      }
    },
  };
  stream.once('close', () => ctx.clients.release(packet.clientId, session));
  const start = (): void => {
    started = true;
    if (!stream.destroyed) {
      if (bridged) bridge = new MqttBridge(stream, packet, firstBytes, ctx.bridge, ctx);
      else {
        stream.unshift(firstBytes);
        ctx.handoff(stream);
      }
    }
    const then = takenOverBeforeStart;
    takenOverBeforeStart = null;
    if (then !== null) session.takenOver(then);
  };
  // The old session hears why it ends, and aedes lets go of it, before aedes sees the new CONNECT
  // (aedes 1.2 unregisters a closing client by id, so a late close would unregister the new one).
  const old = ctx.clients.claim(packet.clientId, session);
  if (old === null) start();
  else {
    ctx.metrics.takeoversTotal++;
    old.takenOver(start);
  }
}
