/**
 * The one entry point the engine uses to open a device of any kind over any transport:
 * `prepareTarget` validates the URL and TLS settings once per process (bad input → HerdError),
 * `openDevice` starts one attempt and reports to the owner.
 */
import { HerdError } from '../errors.js';
import { MqttConnection, type MqttOwner } from './mqtt/connection.js';
import { listSchemes, parseTargetUrl, SCHEME_NAMES, SCHEMES, type DeviceKind, type TargetAddress } from '../util/target-url.js';
import { resolveTls, type ResolvedTls, type TlsSettings } from './transports/tls-options.js';
import { WsDevice, type WsDeviceOwner } from './ws/device.js';

export interface PreparedTarget {
  kind: DeviceKind;
  endpoint: TargetAddress;
  /** Resolved for mqtts:// and wss:// (the system CA store when no settings were given); else null. */
  tls: ResolvedTls | null;
}

/** Validates a target for a device kind; reads every TLS file now. */
export function prepareTarget(kind: DeviceKind, url: string, tls?: TlsSettings, field = 'target'): PreparedTarget {
  const endpoint = parseTargetUrl(url, field, kind);
  if (!endpoint.secure && tls !== undefined && Object.keys(tls).length > 0) {
    throw new HerdError('E_SCENARIO_INVALID', `device.tls: TLS settings were given but ${field} ${url} is not a TLS URL (TLS schemes: ${listSchemes(SCHEME_NAMES.filter((s) => SCHEMES[s].secure))})`);
  }
  return { kind, endpoint, tls: endpoint.secure ? resolveTls(tls ?? {}) : null };
}

export interface DeviceOpenOptions {
  /** Index of the device: client certificate, cached TLS session and the owner's slot. */
  deviceId: number;
  localAddress: string | undefined;
  connectTimeoutMs: number;
  /** Largest inbound MQTT packet / WebSocket message. */
  maxPacketBytes: number;
  /** Cap on bytes queued for sending per connection. */
  maxBufferedBytes?: number;
  /** MQTT: the device's CONNECT (buildConnect()). */
  connectPacket?: Buffer;
  /** MQTT: cap on QoS 1/2 exchanges in flight each way. */
  maxInflight?: number;
  /** Upgrade request headers (ws/wss). */
  headers?: Record<string, string>;
  /** Plain WebSocket devices: subprotocol offered and a hello frame sent after the upgrade. */
  subprotocol?: string;
  hello?: string | Buffer;
}

export type Device = MqttConnection | WsDevice;

export function openDevice(t: PreparedTarget & { kind: 'mqtt' }, o: DeviceOpenOptions, owner: MqttOwner): MqttConnection;
export function openDevice(t: PreparedTarget & { kind: 'websocket' }, o: DeviceOpenOptions, owner: WsDeviceOwner): WsDevice;
export function openDevice(t: PreparedTarget, o: DeviceOpenOptions, owner: MqttOwner | WsDeviceOwner): Device;
export function openDevice(t: PreparedTarget, o: DeviceOpenOptions, owner: MqttOwner | WsDeviceOwner): Device {
  const ep = t.endpoint;
  if (t.kind === 'mqtt') {
    if (o.connectPacket === undefined) throw new Error('openDevice(mqtt) needs a connectPacket');
    return new MqttConnection(owner as MqttOwner, o.deviceId, {
      host: ep.host,
      port: ep.port,
      localAddress: o.localAddress,
      connectPacket: o.connectPacket,
      connectTimeoutMs: o.connectTimeoutMs,
      maxPacketBytes: o.maxPacketBytes,
      scheme: ep.scheme,
      path: ep.path,
      ...(t.tls !== null ? { tls: t.tls } : {}),
      ...(o.headers !== undefined ? { wsHeaders: o.headers } : {}),
      ...(o.maxInflight !== undefined ? { maxInflight: o.maxInflight } : {}),
      ...(o.maxBufferedBytes !== undefined ? { maxBufferedBytes: o.maxBufferedBytes } : {}),
    });
  }
  if (ep.scheme !== 'ws' && ep.scheme !== 'wss') throw new Error(`a websocket device cannot use ${ep.scheme}://`);
  return new WsDevice(owner as WsDeviceOwner, o.deviceId, {
    scheme: ep.scheme,
    host: ep.host,
    port: ep.port,
    path: ep.path,
    localAddress: o.localAddress,
    connectTimeoutMs: o.connectTimeoutMs,
    maxMessageBytes: o.maxPacketBytes,
    ...(t.tls !== null ? { tls: t.tls } : {}),
    ...(o.headers !== undefined ? { headers: o.headers } : {}),
    ...(o.subprotocol !== undefined ? { subprotocol: o.subprotocol } : {}),
    ...(o.hello !== undefined ? { hello: o.hello } : {}),
    ...(o.maxBufferedBytes !== undefined ? { maxBufferedBytes: o.maxBufferedBytes } : {}),
  });
}
