/**
 * What counts as the target deliberately shedding load rather than breaking: one definition for
 * every reader of results (reports, compare, breakpoint) and for the device side that classifies
 * the failures. Codes are the failure codes of src/protocols/classify.ts.
 */
import type { Failure } from './types.js';

/** MQTT 5 reason codes by which a target sheds load: 0x89 server busy, 0x9F connection rate exceeded. */
export const LOAD_SHEDDING_CODES = new Set([0x89, 0x9f]);

const SHEDDING_FAILURE_CODES = new Set([
  'CONNACK_89',
  'CONNACK_9F',
  'DISCONNECT_89',
  'DISCONNECT_9F',
  'WS_HTTP_429',
  'WS_HTTP_503',
  'WS_CLOSE_1013',
]);

/**
 * MQTT 3.1.1 has no "busy" code: a target shedding load answers CONNACK 3, server unavailable. It
 * is shedding when the target is known to mean it so (the embedded target's admission control),
 * or when the caller treats every "unavailable" as a shedding sign (breakpoint's tipping point).
 */
const V4_SHEDDING_CODE = 'CONNACK_03';

/**
 * True when the target deliberately shed load (MQTT 5 0x89 / 0x9F in CONNACK or DISCONNECT, HTTP
 * 429/503 on a WebSocket upgrade, WebSocket close 1013; with `connack3` also CONNACK 3).
 */
export function isLoadShedding(f: Pick<Failure, 'origin' | 'code'>, connack3 = false): boolean {
  if (f.origin !== 'protocol') return false;
  return SHEDDING_FAILURE_CODES.has(f.code) || (connack3 && f.code === V4_SHEDDING_CODE);
}
