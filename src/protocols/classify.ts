/**
 * The one error taxonomy. Wire failures become data: an origin (who
 * failed), the phase it happened in and a stable code. `local` is the harness's own resource
 * running out and is never blamed on the target.
 */
import type { Failure } from '../results/types.js';
import { LOAD_SHEDDING_CODES, isLoadShedding } from '../results/shedding.js';

/** Shedding is part of the results contract; re-exported for the device side's readers. */
export { LOAD_SHEDDING_CODES, isLoadShedding };

// Failure lives in results/ so metrics/ can count failures without importing protocols/.
export type { Failure };

const LOCAL = new Set([
  'EMFILE',
  'ENFILE',
  'EADDRNOTAVAIL',
  'ENOBUFS',
  'ENOMEM',
  'EADDRINUSE',
  // No source port left in the worker's slice, or every port tried was taken (transports/source-ports.ts).
  'ESOURCEPORTS',
  'EAGAIN',
  // A harness misconfigured (a source address of the wrong family, an option Node refuses): never the target's.
  'EINVAL',
  'EAFNOSUPPORT',
  'ERR_INVALID_ARG_VALUE',
  'ERR_INVALID_ARG_TYPE',
  'ERR_INVALID_IP_ADDRESS',
  'ERR_INVALID_CHAR',
  'ERR_SOCKET_BAD_PORT',
]);
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ECONNABORTED',
  'EHOSTDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECANCELED',
]);

export function classifyError(err: unknown, phase: string): Failure {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : 'EUNKNOWN';
  if (LOCAL.has(code)) return { origin: 'local', phase, code };
  // A library refusing herd's own options before anything is sent (ws: "invalid subprotocol").
  if (code === 'EUNKNOWN' && err instanceof SyntaxError) return { origin: 'local', phase, code: 'EINVAL' };
  if (NETWORK.has(code))
    return { origin: 'network', phase: code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'dns' : phase, code };
  if (isTlsCode(code)) return { origin: 'tls', phase: 'tlsHandshake', code };
  // ws's own framing errors and Node's HTTP parser errors: the peer broke the protocol.
  if (code.startsWith('WS_ERR_') || code.startsWith('HPE_')) return { origin: 'protocol', phase, code };
  if (code === 'EUNKNOWN' && phase === 'wsUpgrade') return { origin: 'protocol', phase, code: 'WS_HANDSHAKE_INVALID' };
  return { origin: 'network', phase, code };
}

/** OpenSSL/Node certificate and alert codes (ERR_SSL_TLSV1_ALERT_UNKNOWN_CA, UNABLE_TO_VERIFY_LEAF_SIGNATURE…). */
function isTlsCode(code: string): boolean {
  return (
    code.startsWith('ERR_TLS') ||
    code.startsWith('ERR_SSL') ||
    code.startsWith('SSL_') ||
    code.startsWith('UNABLE_TO_') ||
    code.includes('CERT') ||
    code === 'HOSTNAME_MISMATCH' ||
    code === 'ERR_OSSL_EVP_BAD_DECRYPT'
  );
}

/** A WebSocket close frame from the server on a held session (1013 "try again later" = shedding). */
export function wsCloseFailure(code: number): Failure {
  return { origin: 'protocol', phase: 'held', code: `WS_CLOSE_${code}` };
}

/** A WebSocket upgrade answered with an HTTP status other than 101 (429/503 are load shedding). */
export function wsHttpFailure(status: number): Failure {
  return { origin: 'protocol', phase: 'wsUpgrade', code: `WS_HTTP_${status}` };
}

/** MQTT 3.1.1 CONNACK return codes and the MQTT 5 reason codes a server uses to refuse. */
export const CONNACK_NAMES: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
  0x80: 'unspecified error',
  0x81: 'malformed packet',
  0x82: 'protocol error',
  0x84: 'unsupported protocol version',
  0x85: 'client identifier not valid',
  0x86: 'bad user name or password',
  0x87: 'not authorized',
  0x88: 'server unavailable',
  0x89: 'server busy',
  0x8a: 'banned',
  0x97: 'quota exceeded',
  0x9f: 'connection rate exceeded',
};

export function connackFailure(returnCode: number): Failure {
  return { origin: 'protocol', phase: 'mqttConnack', code: `CONNACK_${hex2(returnCode)}` };
}

/** An MQTT 5 server DISCONNECT while the session was held (0x89/0x9F here are shedding too). */
export function disconnectFailure(reasonCode: number): Failure {
  return { origin: 'protocol', phase: 'held', code: `DISCONNECT_${hex2(reasonCode)}` };
}

/** MQTT 5 DISCONNECT reason codes a server sends (beyond those shared with CONNACK). */
export const DISCONNECT_NAMES: Record<number, string> = {
  0x00: 'normal disconnection',
  0x8b: 'server shutting down',
  0x8d: 'keep alive timeout',
  0x8e: 'session taken over',
  0x93: 'receive maximum exceeded',
  0x95: 'packet too large',
  0x96: 'message rate too high',
  0x98: 'administrative action',
  0x9c: 'use another server',
  0x9d: 'server moved',
  0xa2: 'wildcard subscriptions not supported',
};

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0').toUpperCase();
}
