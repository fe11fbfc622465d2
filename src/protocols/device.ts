/**
 * The one entry point the engine uses to open a device of any kind over any transport:
 * `prepareTarget` validates the URL and TLS settings once per process (bad input → HerdError),
 * `openDevice` starts one attempt and reports to the owner.
 */
import { HerdError } from '../errors.js';
import type { Failure } from './classify.js';
import type { ConnState, PhaseTimes } from './device-base.js';
import { isIP } from 'node:net';
import { connectProtocolVersion } from './mqtt/connect-packet.js';
import { MqttConnection, type MqttOwner } from './mqtt/connection.js';
import { loadNative } from './native/binding.js';
import { openNativeDevice } from './native/core.js';
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
  /**
   * 'native': open on the native storm core when the target allows it (nativeTarget()) and the
   * addon is loaded; otherwise, and by default, the JavaScript path.
   */
  engine?: 'js' | 'native';
  /** How many slots the owner has: the native core sizes its per-slot rows once from it. */
  slotCount?: number;
}

/** Whether the native core can carry devices to this target: plain mqtt:// to an IP literal. */
export function nativeTarget(t: PreparedTarget): boolean {
  return t.kind === 'mqtt' && t.endpoint.scheme === 'mqtt' && isIP(t.endpoint.host) !== 0;
}

/**
 * A device as the engine drives it, whatever its protocol: the engine's one seam to protocols/
 * (tests put small in-process devices behind it).
 */
export interface Device {
  /** The owner's slot for this device. */
  readonly deviceId: number;
  readonly state: ConnState;
  /** µs since origin: attempt start, and protocol ready (CONNACK / upgrade); NaN until reached. */
  readonly socketOpenUs: number;
  readonly readyUs: number;
  /** When the outstanding keepalive ping was sent; NaN when none is outstanding. */
  readonly pingSentUs: number;
  readonly tlsResumed: boolean | null;
  /** MQTT: CONNACK session-present; false for devices without sessions. */
  readonly sessionPresent: boolean;
  /** The MQTT session for telemetry and requests; null for devices without MQTT. */
  readonly mqtt: MqttConnection | null;
  phaseTimes(): PhaseTimes;
  /** A keepalive ping unless one is outstanding. */
  ping(): void;
  /** Ends the session cleanly (the owner hears onClosed). */
  end(): void;
  /** Closes at once (onClosed for a session; a pending attempt reports nothing more). */
  abort(): void;
  /** Closes at once with a TCP RST where possible. */
  reset(): void;
  /** The path goes dark: nothing read or written, the socket stays open. */
  silence(): void;
  /** The engine declared the held session dead: lost with `f` (onLost). */
  expire(f: Failure): void;
}

/** What a device reports to: the engine's fleet, or a test. Both protocols' owners in one. */
export interface DeviceOwner extends MqttOwner {
  onConnected(c: Device): void;
  onFailed(c: Device, f: Failure): void;
  onLost(c: Device, f: Failure): void;
  onClosed(c: Device): void;
}

export function openDevice(t: PreparedTarget & { kind: 'mqtt' }, o: DeviceOpenOptions, owner: MqttOwner): MqttConnection;
export function openDevice(t: PreparedTarget & { kind: 'websocket' }, o: DeviceOpenOptions, owner: WsDeviceOwner): WsDevice;
export function openDevice(t: PreparedTarget, o: DeviceOpenOptions, owner: MqttOwner | WsDeviceOwner): Device;
export function openDevice(t: PreparedTarget, o: DeviceOpenOptions, owner: MqttOwner | WsDeviceOwner): Device {
  const ep = t.endpoint;
  if (t.kind === 'mqtt') {
    if (o.connectPacket === undefined) throw new Error('openDevice(mqtt) needs a connectPacket');
    if (o.engine === 'native' && nativeTarget(t) && loadNative() !== null) {
      const native = openNativeDevice(
        owner as MqttOwner,
        {
          deviceId: o.deviceId,
          ip: ep.host,
          port: ep.port,
          localAddress: o.localAddress,
          connectPacket: o.connectPacket,
          protocolVersion: connectProtocolVersion(o.connectPacket),
          connectTimeoutMs: o.connectTimeoutMs,
          ...(o.slotCount !== undefined ? { slotCount: o.slotCount } : {}),
        },
        o.maxPacketBytes,
      );
      // A connect-only device (mqtt is null). Callers that ask for 'native' take it as a Device;
      // the MqttConnection overload holds for everyone else, who never gets one.
      return native;
    }
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
