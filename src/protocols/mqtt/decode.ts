/**
 * Decodes whole MQTT packets (after CONNACK) with mqtt-packet's parser. One parser per protocol
 * version serves every connection in the process: FrameSplitter hands it only complete frames, and
 * after each frame the parser is back at its start state with nothing buffered (checked here on
 * every call, and reset if a malformed frame left it mid-packet), so no bytes leak between
 * connections. test/unit/protocol-decode.test.ts proves it, including after malformed frames.
 */
import * as mqtt from 'mqtt-packet';

export type DecodeResult = { packet: mqtt.Packet; error: null } | { packet: null; error: string };

interface ParserInternals {
  /** mqtt-packet replaces it with a CONNECT it parses (its protocol version then rules later packets). */
  settings: { protocolVersion?: number };
  _list: { length: number };
  _stateCounter: number;
  _pos: number;
  error: Error | null;
  _resetState(): void;
}

let captured: mqtt.Packet | null = null;
let failed: string | null = null;

function onPacket(p: mqtt.Packet): void {
  captured = p;
}
function onError(err: Error): void {
  failed = err.message;
}

const SETTINGS = { 4: { protocolVersion: 4 }, 5: { protocolVersion: 5 } } as const;

function makeParser(protocolVersion: 4 | 5): mqtt.Parser {
  const p = mqtt.parser({ ...SETTINGS[protocolVersion] });
  p.on('packet', onPacket);
  p.on('error', onError);
  (p as unknown as ParserInternals)._pos = 0; // unset until the first packet; idle means 0
  return p;
}

const PARSERS = { 4: makeParser(4), 5: makeParser(5) } as const;

/** Decodes one complete frame (fixed header included). Never throws. */
export function decodeFrame(frame: Buffer, protocolVersion: 4 | 5): DecodeResult {
  const parser = PARSERS[protocolVersion];
  captured = null;
  failed = null;
  try {
    parser.parse(frame);
  } catch (err) {
    failed = err instanceof Error ? err.message : 'parser threw';
  }
  const internals = parser as unknown as ParserInternals;
  // A CONNECT (the warm-up's listener reads them) left its own settings behind: a v5 CONNECT read
  // here would have every later 3.1.1 frame of every connection decoded as MQTT 5.
  if (internals.settings.protocolVersion !== protocolVersion) internals.settings = { ...SETTINGS[protocolVersion] };
  if (failed !== null || internals._list.length !== 0 || internals._stateCounter !== 0 || internals._pos !== 0) {
    // A malformed or short frame: drop whatever the parser holds so the next frame starts clean.
    // _resetState() leaves the read cursor `_pos` where the error stopped (mqtt-packet 9.0.2), and
    // the next length would be read from there; only _newPacket() zeroes it, so we do it here.
    internals._resetState();
    internals._pos = 0;
    const error = failed ?? 'incomplete frame';
    captured = null;
    failed = null;
    return { packet: null, error };
  }
  const packet = captured;
  captured = null;
  if (packet === null) return { packet: null, error: 'no packet decoded' };
  return { packet, error: null };
}

/** True when the shared parser holds no bytes and no partial packet (tests check it). */
export function parserIsIdle(protocolVersion: 4 | 5): boolean {
  const p = PARSERS[protocolVersion] as unknown as ParserInternals;
  const settled = p.settings.protocolVersion === protocolVersion;
  return settled && p._list.length === 0 && p._stateCounter === 0 && p._pos === 0 && p.error === null;
}
