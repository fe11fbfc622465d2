/**
 * The front layer's reading of a connection's first packet, without a parser per connection: the
 * fixed header (type and remaining length) is framed here, and only a complete CONNECT is parsed,
 * by one mqtt-packet parser shared by every connection of the process. Parsing a CONNECT does not
 * depend on what the parser saw before (mqtt-packet reads its protocol version from the packet),
 * and a parse that fails or leaves bytes behind gets the parser replaced, so no state leaks from one
 * connection to the next.
 */
import * as mqtt from 'mqtt-packet';

/** More bytes are needed before the first packet's length is known or its bytes are all there. */
export const NEED_MORE = -1;
/** Not an MQTT CONNECT: another packet type, or a remaining length longer than four bytes. */
export const NOT_A_CONNECT = -2;

const CONNECT_TYPE = 1;

/**
 * The whole length (fixed header included) of the packet starting `buf`, once its header is
 * complete; NEED_MORE before that; NOT_A_CONNECT as soon as the first byte says another type.
 */
export function connectFrameLength(buf: Buffer): number {
  if (buf.length === 0) return NEED_MORE;
  if ((buf[0] as number) >> 4 !== CONNECT_TYPE) return NOT_A_CONNECT;
  let remaining = 0;
  let multiplier = 1;
  for (let i = 1; i <= 4; i++) {
    if (i >= buf.length) return NEED_MORE;
    const b = buf[i] as number;
    remaining += (b & 0x7f) * multiplier;
    if ((b & 0x80) === 0) return i + 1 + remaining;
    multiplier *= 128;
  }
  return NOT_A_CONNECT;
}

let shared = newParser();
let parsed: mqtt.Packet | null = null;
let failed = false;

function newParser(): ReturnType<typeof mqtt.parser> {
  const p = mqtt.parser();
  p.on('packet', (packet: mqtt.Packet) => {
    parsed = packet;
  });
  p.on('error', () => {
    failed = true;
  });
  return p;
}

/** Parses exactly one framed CONNECT; null when its bytes are not a valid one. */
export function parseConnect(frame: Buffer): mqtt.IConnectPacket | null {
  parsed = null;
  failed = false;
  const left = shared.parse(frame);
  const packet = parsed as mqtt.Packet | null;
  if (failed || left !== 0 || packet === null || packet.cmd !== 'connect') {
    shared = newParser();
    return null;
  }
  parsed = null;
  return packet;
}
