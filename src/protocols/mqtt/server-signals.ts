/**
 * What an MQTT 5 server tells a device about how to behave (issue 16), read from CONNACK and
 * DISCONNECT into plain data: the reason code, Server Keep Alive, Session Expiry, Server Reference,
 * Maximum QoS and Retain Available. MQTT 3.1.1 packets carry none of it. What the device does with
 * a signal is decided in src/engine/steering.ts; this module only reads.
 *
 * The rules are the spec's, and the native core's reader (native/src/signal.c) applies the very
 * same ones, so both connect paths see the same signals: the properties are the rest of the packet
 * exactly (Property Length); each property is one the packet may carry (CONNACK / DISCONNECT
 * Properties), at most once (User Property aside), whole; a byte property is 0 or 1; Receive
 * Maximum and Maximum Packet Size are not 0; a Server Reference is well-formed UTF-8 without
 * U+0000; CONNACK flags bits 7–1 are 0; a DISCONNECT reason code is one the spec's DISCONNECT
 * Reason Code table defines. Anything else is malformed: no signal.
 */

export interface ServerSignal {
  packet: 'connack' | 'disconnect';
  reasonCode: number;
  serverKeepAliveS: number | null;
  sessionExpiryS: number | null;
  /** Where the server says to go instead (0x9C use another server, 0x9D server moved). */
  serverReference: string | null;
  maximumQoS: number | null;
  retainAvailable: boolean | null;
}

/** A signal read whole, with the CONNACK's Receive Maximum (which bounds QoS 1/2 in flight). */
export interface SignalRead {
  signal: ServerSignal;
  receiveMaximum: number | null;
}

const CONNACK = 2;
const DISCONNECT = 14;
type PropType = 'byte' | 'int16' | 'int32' | 'string' | 'binary' | 'pair';
const BOTH: Record<number, PropType> = { 0x11: 'int32', 0x1c: 'string', 0x1f: 'string', 0x26: 'pair' };
const CONNACK_ONLY: Record<number, PropType> = {
  0x12: 'string',
  0x13: 'int16',
  0x15: 'string',
  0x16: 'binary',
  0x1a: 'string',
  0x21: 'int16',
  0x22: 'int16',
  0x24: 'byte',
  0x25: 'byte',
  0x27: 'int32',
  0x28: 'byte',
  0x29: 'byte',
  0x2a: 'byte',
};
const DISCONNECT_CODES = new Set([
  0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98,
  0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2,
]);
// ignoreBOM keeps a leading U+FEFF, as the native core's bytes do.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The signal in an MQTT 5 CONNACK or DISCONNECT frame (fixed header included); null otherwise. */
export function readServerSignal(frame: Buffer): ServerSignal | null {
  const type = (frame[0] ?? 0) >> 4;
  let rem = 0;
  let i = 1;
  for (; i < frame.length && i < 5; i++) {
    rem += ((frame[i] as number) & 0x7f) * 128 ** (i - 1);
    if (((frame[i] as number) & 0x80) === 0) break;
  }
  if ((type !== CONNACK && type !== DISCONNECT) || i === 5 || frame.length !== i + 1 + rem) return null;
  return readSignalBody(type, frame.subarray(i + 1))?.signal ?? null;
}

/** The signal in the body (after the fixed header) of an MQTT 5 CONNACK (2) or DISCONNECT (14); null if malformed. */
export function readSignalBody(type: 2 | 14, body: Buffer): SignalRead | null {
  const s: ServerSignal = {
    packet: type === CONNACK ? 'connack' : 'disconnect',
    reasonCode: 0,
    serverKeepAliveS: null,
    sessionExpiryS: null,
    serverReference: null,
    maximumQoS: null,
    retainAvailable: null,
  };
  let i = 0;
  if (type === CONNACK && (body[i++] ?? 2) > 1) return null;
  if (type === DISCONNECT && body.length === 0) return { signal: s, receiveMaximum: null };
  if (i >= body.length) return null;
  s.reasonCode = body[i++] as number;
  if (type === DISCONNECT && !DISCONNECT_CODES.has(s.reasonCode)) return null;
  if (type === DISCONNECT && i === body.length) return { signal: s, receiveMaximum: null };
  let plen = 0;
  for (let k = 0; ; k++) {
    if (k === 4 || i >= body.length) return null;
    const x = body[i++] as number;
    plen += (x & 0x7f) * 128 ** k;
    if ((x & 0x80) === 0) break;
  }
  if (plen !== body.length - i) return null;
  return readProperties(type, body, i, s);
}

function readProperties(type: number, body: Buffer, start: number, s: ServerSignal): SignalRead | null {
  const seen = new Set<number>();
  let receiveMaximum: number | null = null;
  let i = start;
  const left = (): number => body.length - i;
  while (i < body.length) {
    const id = body[i++] as number;
    const t = BOTH[id] ?? (type === CONNACK ? CONNACK_ONLY[id] : undefined);
    if (t === undefined || (id !== 0x26 && seen.has(id))) return null;
    seen.add(id);
    if (t === 'byte' || t === 'int16' || t === 'int32') {
      const n = t === 'byte' ? 1 : t === 'int16' ? 2 : 4;
      if (left() < n) return null;
      const v = body.readUIntBE(i, n);
      i += n;
      if ((t === 'byte' && v > 1) || ((id === 0x21 || id === 0x27) && v === 0)) return null;
      if (id === 0x13) s.serverKeepAliveS = v;
      else if (id === 0x11) s.sessionExpiryS = v;
      else if (id === 0x24) s.maximumQoS = v;
      else if (id === 0x25) s.retainAvailable = v === 1;
      else if (id === 0x21) receiveMaximum = v;
      continue;
    }
    for (let half = t === 'pair' ? 2 : 1; half > 0; half--) {
      if (left() < 2) return null;
      const n = body.readUInt16BE(i);
      i += 2;
      if (left() < n) return null;
      if (id === 0x1c) {
        const ref = utf8(body.subarray(i, i + n));
        if (ref === null) return null;
        s.serverReference = ref;
      }
      i += n;
    }
  }
  return { signal: s, receiveMaximum };
}

/** Well-formed UTF-8 without U+0000 (§1.5.4), else null. */
function utf8(b: Buffer): string | null {
  try {
    const v = UTF8.decode(b);
    return v.includes('\0') ? null : v;
  } catch {
    return null;
  }
}
