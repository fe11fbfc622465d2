/**
 * What an MQTT 5 server tells a device about how to behave (issue 16), read from CONNACK and
 * DISCONNECT into plain data: the reason code, Server Keep Alive, Session Expiry, Server Reference,
 * Maximum QoS and Retain Available. MQTT 3.1.1 packets carry none of it. What the device does with
 * a signal is decided in src/engine/steering.ts; this module only reads.
 */
import type * as mqtt from 'mqtt-packet';
import { decodeFrame } from './decode.js';

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

/** The signal in an MQTT 5 CONNACK or DISCONNECT frame; null for other packets or a malformed one. */
export function readServerSignal(frame: Buffer): ServerSignal | null {
  const d = decodeFrame(frame, 5);
  return d.error === null ? signalOf(d.packet) : null;
}

export function signalOf(p: mqtt.Packet): ServerSignal | null {
  if (p.cmd !== 'connack' && p.cmd !== 'disconnect') return null;
  const props = (p.properties ?? {}) as {
    serverKeepAlive?: number;
    sessionExpiryInterval?: number;
    serverReference?: string;
    maximumQoS?: number;
    retainAvailable?: boolean;
  };
  return {
    packet: p.cmd,
    reasonCode: p.reasonCode ?? 0,
    serverKeepAliveS: props.serverKeepAlive ?? null,
    sessionExpiryS: props.sessionExpiryInterval ?? null,
    serverReference: props.serverReference ?? null,
    maximumQoS: props.maximumQoS ?? null,
    retainAvailable: props.retainAvailable ?? null,
  };
}
