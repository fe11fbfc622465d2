/**
 * The native core's outcome codes (native/src/wire.h) as the one error taxonomy of classify.ts:
 * the same codes, origins and phases the JavaScript path reports for the same wire event.
 */
import { constants } from 'node:os';
import { classifyError, connackFailure, disconnectFailure, type Failure } from '../classify.js';
import type { ServerSignal } from '../mqtt/server-signals.js';
import { loadNative } from './binding.js';

export const EV_READY = 1;
export const EV_FAILED = 2;
export const EV_LOST = 3;
export const EV_CLOSED = 4;
export const EV_PONG = 5;
/** The MQTT 5 CONNACK/DISCONNECT signal of the slot's next event (native/src/signal.h sig_event). */
export const EV_SIGNAL = 6;
/** The TLS handshake is done (native/src/tls.h): code bit 1 = resumed, bit 2 = a key exchange ran. */
export const EV_TLS = 7;
export const TLS_RESUMED = 1;
export const TLS_KEY_EXCHANGE = 2;
/** A QoS 1 PUBACK: code = packet id | reason code << 16, t1 = µs since PUBLISH, t2 = the publish's tag. */
export const EV_PUBACK = 8;
/** A SUBACK: code = packet id + return codes × 65,536, t1 = µs since SUBSCRIBE, t2 = their offset in the blob. */
export const EV_SUBACK = 9;
/** An inbound PUBLISH: code = QoS | retain << 2 | dup << 3, t1 = received (µs), t2 = its offset in the blob. */
export const EV_MESSAGE = 10;
/**
 * A pending attempt's connect timeout ran out (the core closed it: native/src/deadline.h); code = the
 * phase it was in (TIMEOUT_PHASES).
 */
export const EV_TIMEOUT = 11;
export const TIMEOUT_PHASES: readonly string[] = ['tcpConnect', 'mqttConnack', 'tlsHandshake'];
/** Numbers per event in a batch: id, kind, code, t1Us, t2Us. */
export const EVENT_STRIDE = 5;

const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));

const NATIVE_CODES: Record<number, (phase: string) => Failure> = {
  3001: () => ({ origin: 'network', phase: 'mqttConnack', code: 'CLOSED_BEFORE_CONNACK' }),
  3002: () => ({ origin: 'network', phase: 'held', code: 'PEER_CLOSED' }),
  3003: (phase) => ({ origin: 'protocol', phase, code: 'MQTT_MALFORMED_PACKET' }),
  3004: (phase) => ({ origin: 'protocol', phase, code: 'MQTT_PACKET_TOO_LARGE' }),
  3005: (phase) => ({ origin: 'protocol', phase, code: 'MQTT_MALFORMED_LENGTH' }),
  3006: (phase) => ({ origin: 'protocol', phase, code: 'MQTT_UNEXPECTED_PACKET' }),
  // The JavaScript path reports a peer hanging up during TCP connect as a reset (device-base.ts).
  3007: () => ({ origin: 'network', phase: 'tcpConnect', code: 'ECONNRESET' }),
  // Node's TLS client: "Client network socket disconnected before secure TLS connection was established".
  3008: () => ({ origin: 'network', phase: 'tlsHandshake', code: 'ECONNRESET' }),
  3009: () => ({ origin: 'tls', phase: 'tlsHandshake', code: 'ERR_TLS_CERT_ALTNAME_INVALID' }),
  // An acknowledgement the send buffer had no room for: the peer stopped reading (messaging.ts ack()).
  3010: () => ({ origin: 'network', phase: 'held', code: 'SEND_BUFFER_FULL' }),
  3011: (phase) => ({ origin: 'protocol', phase, code: 'MQTT_RECEIVE_MAXIMUM_EXCEEDED' }),
};

/** Certificate verification results (4000 + X509_V_ERR_*) and OpenSSL errors (packed, ≥ 2^23): named in C. */
function isTlsOutcome(code: number): boolean {
  return (code >= 4000 && code < 5000) || code >= 2 ** 23;
}

/** The failure for a native outcome code seen in `phase`. */
export function nativeFailure(code: number, phase: string): Failure {
  if (code >= 2000 && code < 2256) return disconnectFailure(code - 2000);
  if (code >= 1000 && code < 1256) return connackFailure(code - 1000);
  const special = NATIVE_CODES[code];
  if (special !== undefined) return special(phase);
  const b = isTlsOutcome(code) ? loadNative() : null;
  if (b !== null) return classifyError({ code: b.tlsCodeName(code) }, phase);
  return classifyError({ code: ERRNO_NAMES.get(code) ?? `ERRNO_${code}` }, phase);
}

/** Bits of an EV_SIGNAL code above the reason code (native/src/signal.h). */
const DISCONNECT_BIT = 1 << 8;
const HAS_SHIFT = 9;
const HAS_MAX_QOS = 4;
const HAS_RETAIN = 8;
const HAS_REFERENCE = 16;

/** Whether an EV_SIGNAL with this code takes the next Server Reference of its batch. */
export function signalHasReference(code: number): boolean {
  return ((code >> HAS_SHIFT) & HAS_REFERENCE) !== 0;
}

/** An EV_SIGNAL as the signal the JavaScript path reads from the same packet (server-signals.ts). */
export function nativeSignal(code: number, t1: number, t2: number, reference: string | null): ServerSignal {
  const has = (code >> HAS_SHIFT) & 63;
  return {
    packet: (code & DISCONNECT_BIT) !== 0 ? 'disconnect' : 'connack',
    reasonCode: code & 0xff,
    serverKeepAliveS: Number.isNaN(t1) ? null : t1,
    sessionExpiryS: Number.isNaN(t2) ? null : t2,
    serverReference: (has & HAS_REFERENCE) !== 0 ? reference : null,
    maximumQoS: (has & HAS_MAX_QOS) !== 0 ? (code >> 15) & 1 : null,
    retainAvailable: (has & HAS_RETAIN) !== 0 ? ((code >> 16) & 1) === 1 : null,
  };
}
