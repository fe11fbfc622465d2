import * as mqtt from 'mqtt-packet';

export interface ConnectFields {
  clientId: string;
  username: string | null;
  password: string | null;
  keepaliveS: number;
  /** MQTT 3.1.1 clean session; MQTT 5 clean start. */
  clean: boolean;
  protocolVersion: 4 | 5;
  /** MQTT 5: how long the server keeps the session after the connection ends (0 = ends with it). */
  sessionExpiryIntervalS?: number;
  /** MQTT 5: QoS 1/2 publishes the server may have in flight to us (our in-flight cap). */
  receiveMaximum?: number;
  /** MQTT 5: the largest packet we accept, so a compliant server never sends one we would refuse. */
  maximumPacketBytes?: number;
}

/**
 * Builds one device's CONNECT packet bytes (once per attempt, before the socket opens), written
 * straight into one Buffer: the same bytes mqtt-packet's generate() makes (a property test holds
 * them equal), without the ~1.8 KB of short-lived objects per attempt it allocates — garbage that,
 * promoted during a storm, fragments the heap the held sessions live in (docs/performance.md,
 * "Memory per held connection"). What generate() would refuse is handed to it, so it throws as before.
 */
export function buildConnect(f: ConnectFields): Buffer {
  const v5 = f.protocolVersion === 5;
  const idBytes = Buffer.byteLength(f.clientId);
  const userBytes = f.username === null ? -1 : Buffer.byteLength(f.username);
  const passBytes = f.password === null ? -1 : Buffer.byteLength(f.password);
  const propsBytes = v5 ? propertiesLength(f) : 0;
  const valid =
    (f.clientId !== '' || f.clean) &&
    Number.isInteger(f.keepaliveS) &&
    f.keepaliveS >= 0 &&
    f.keepaliveS <= 0xffff &&
    (f.password === null || f.username !== null) &&
    idBytes <= 0xffff &&
    userBytes <= 0xffff &&
    passBytes <= 0xffff &&
    propsBytes >= 0;
  if (!valid) return generateConnect(f);
  const remaining =
    10 +
    (v5 ? varIntBytes(propsBytes) + propsBytes : 0) +
    2 +
    idBytes +
    (userBytes < 0 ? 0 : 2 + userBytes) +
    (passBytes < 0 ? 0 : 2 + passBytes);
  const out = Buffer.allocUnsafe(1 + varIntBytes(remaining) + remaining);
  out[0] = 0x10;
  let o = writeVarInt(out, 1, remaining);
  o = out.writeUInt16BE(4, o);
  o += out.write('MQTT', o, 'latin1');
  out[o++] = f.protocolVersion;
  out[o++] = (userBytes >= 0 ? 0x80 : 0) | (passBytes >= 0 ? 0x40 : 0) | (f.clean ? 0x02 : 0);
  o = out.writeUInt16BE(f.keepaliveS, o);
  if (v5) {
    o = writeVarInt(out, o, propsBytes);
    // In the order generate() writes them (the order generateConnect sets them in).
    if (f.sessionExpiryIntervalS !== undefined)
      o = out.writeUInt32BE(f.sessionExpiryIntervalS, out.writeUInt8(0x11, o));
    if (f.receiveMaximum !== undefined) o = out.writeUInt16BE(f.receiveMaximum, out.writeUInt8(0x21, o));
    if (f.maximumPacketBytes !== undefined) o = out.writeUInt32BE(f.maximumPacketBytes, out.writeUInt8(0x27, o));
  }
  o = writeString(out, o, f.clientId, idBytes);
  if (f.username !== null) o = writeString(out, o, f.username, userBytes);
  if (f.password !== null) writeString(out, o, f.password, passBytes);
  return out;
}

/** The MQTT 5 CONNECT properties' length, or -1 when a value is out of its field's range. */
function propertiesLength(f: ConnectFields): number {
  const in32 = (v: number): boolean => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
  let n = 0;
  let ok = true;
  if (f.sessionExpiryIntervalS !== undefined) {
    n += 5;
    ok &&= in32(f.sessionExpiryIntervalS);
  }
  if (f.receiveMaximum !== undefined) {
    n += 3;
    ok &&= Number.isInteger(f.receiveMaximum) && f.receiveMaximum >= 0 && f.receiveMaximum <= 0xffff;
  }
  if (f.maximumPacketBytes !== undefined) {
    n += 5;
    ok &&= in32(f.maximumPacketBytes);
  }
  return ok ? n : -1;
}

function varIntBytes(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : 4;
}

function writeVarInt(out: Buffer, at: number, n: number): number {
  let o = at;
  let v = n;
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) b |= 0x80;
    out[o++] = b;
  } while (v > 0);
  return o;
}

function writeString(out: Buffer, at: number, s: string, bytes: number): number {
  const o = out.writeUInt16BE(bytes, at);
  return o + out.write(s, o, 'utf8');
}

/** mqtt-packet's own encoder: the reference the property test compares with, and the path that throws on bad fields. */
export function generateConnect(f: ConnectFields): Buffer {
  const packet: mqtt.IConnectPacket = {
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: f.protocolVersion,
    clientId: f.clientId,
    clean: f.clean,
    keepalive: f.keepaliveS,
  };
  if (f.username !== null) packet.username = f.username;
  if (f.password !== null) packet.password = Buffer.from(f.password);
  if (f.protocolVersion === 5) {
    const props: NonNullable<mqtt.IConnectPacket['properties']> = {};
    if (f.sessionExpiryIntervalS !== undefined) props.sessionExpiryInterval = f.sessionExpiryIntervalS;
    if (f.receiveMaximum !== undefined) props.receiveMaximum = f.receiveMaximum;
    if (f.maximumPacketBytes !== undefined) props.maximumPacketSize = f.maximumPacketBytes;
    if (Object.keys(props).length > 0) packet.properties = props;
  }
  return mqtt.generate(packet, { protocolVersion: f.protocolVersion });
}

/** The protocol level byte of a CONNECT packet (4 = 3.1.1, 5 = MQTT 5), read without a parser. */
export function connectProtocolVersion(connect: Buffer): 4 | 5 {
  let i = 1;
  while (i < 5 && ((connect[i] as number) & 0x80) !== 0) i++;
  // fixed header, then 00 04 'M' 'Q' 'T' 'T' and the level byte
  const level = connect[i + 1 + 6];
  return level === 5 ? 5 : 4;
}
