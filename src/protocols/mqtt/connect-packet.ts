import * as mqtt from 'mqtt-packet';

export interface ConnectFields {
  clientId: string;
  username: string | null;
  password: string | null;
  keepaliveS: number;
  clean: boolean;
  protocolVersion: 4 | 5;
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
  return mqtt.generate(packet, { protocolVersion: f.protocolVersion });
}
