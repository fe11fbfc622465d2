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

/** Builds one device's CONNECT packet bytes (once per attempt, before the socket opens). */
export function buildConnect(f: ConnectFields): Buffer {
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
