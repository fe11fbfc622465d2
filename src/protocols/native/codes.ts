/**
 * The native core's outcome codes (native/src/wire.h) as the one error taxonomy of classify.ts:
 * the same codes, origins and phases the JavaScript path reports for the same wire event.
 */
import { constants } from 'node:os';
import { classifyError, connackFailure, disconnectFailure, type Failure } from '../classify.js';

export const EV_READY = 1;
export const EV_FAILED = 2;
export const EV_LOST = 3;
export const EV_CLOSED = 4;
export const EV_PONG = 5;
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
};

/** The failure for a native outcome code seen in `phase`. */
export function nativeFailure(code: number, phase: string): Failure {
  if (code >= 2000 && code < 2256) return disconnectFailure(code - 2000);
  if (code >= 1000 && code < 1256) return connackFailure(code - 1000);
  const special = NATIVE_CODES[code];
  if (special !== undefined) return special(phase);
  return classifyError({ code: ERRNO_NAMES.get(code) ?? `ERRNO_${code}` }, phase);
}
