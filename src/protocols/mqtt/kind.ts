/**
 * The MQTT device kind: MQTT 3.1.1 or 5 over TCP, TLS or WebSocket, one pre-built CONNECT per
 * attempt. The native storm core is this kind's engine option (scenario `device.engine`): it carries
 * what it implements — connect / hold / keepalive / end, telemetry and requests at QoS 0/1, downlink
 * (PUBLISH at QoS 0/1, SUBSCRIBE, inbound PUBLISH at any QoS), over plain TCP or TLS to an IP
 * address — and everything else stays on the JavaScript path (MqttConnection). A run can mix.
 */
import type { CohortSpec, DeviceKindRow, DeviceOpenOptions, DeviceOwner, PreparedTarget } from '../device.js';
import { compileIdTemplate } from '../identity.js';
import { loadNative, nativeUnavailable } from '../native/binding.js';
import { openNativeDevice } from '../native/core.js';
import type { NativeDevice, NativeOpenOptions } from '../native/device.js';
import type { ResolvedDevice } from '../../results/resolved-scenario.js';
import { buildConnect, connectProtocolVersion, type ConnectFields } from './connect-packet.js';
import { MqttConnection, type MqttConnectOptions } from './connection.js';
import { PacketSlab } from './packet-slab.js';
import { keepaliveSeconds } from '../../util/duration.js';

/** An MQTT device's own open options. */
export interface MqttOpenOptions {
  /** The device's CONNECT (buildConnect()). */
  connectPacket: Buffer;
  /** 'native': on the native core when it carries the target and the addon is loaded; else (default) JavaScript. */
  engine?: 'js' | 'native';
  /** Cap on QoS 1/2 exchanges in flight each way. */
  maxInflight?: number;
  /** Extra headers on the WebSocket upgrade request (ws://, wss://). */
  headers?: Record<string, string>;
}

type MqttOpen = DeviceOpenOptions & MqttOpenOptions;

/** Why this cohort's devices cannot go native (whatever the targets), or null when they can. */
export function nativeRefusal(d: ResolvedDevice): string | null {
  if (d.publish !== null && d.publish.qos === 2) return 'devices that publish telemetry at QoS 2';
  if (d.requests !== null && d.requests.qos === 2) return 'devices that take requests at QoS 2';
  if (loadNative() === null) return nativeUnavailable();
  return null;
}

/** Whether the native core can carry devices to this target: mqtt:// or mqtts://, to an IP or a host name. */
export function nativeTarget(t: PreparedTarget): boolean {
  const s = t.endpoint.scheme;
  return s === 'mqtt' || (s === 'mqtts' && t.tls !== null);
}

/** Opens one MQTT attempt on the JavaScript path (the session is the device). */
export function openMqtt(t: PreparedTarget, o: MqttOpen, owner: DeviceOwner): MqttConnection {
  const ep = t.endpoint;
  // Optional fields assigned, not spread: no throwaway object per attempt.
  const c: MqttConnectOptions = {
    host: ep.host,
    port: ep.port,
    localAddress: o.localAddress,
    connectPacket: o.connectPacket,
    connectTimeoutMs: o.connectTimeoutMs,
    maxPacketBytes: o.maxPacketBytes,
    scheme: ep.scheme,
    path: ep.path,
  };
  if (t.tls !== null) c.tls = t.tls;
  if (t.names !== null) c.names = t.names;
  if (o.headers !== undefined) c.wsHeaders = o.headers;
  if (o.maxInflight !== undefined) c.maxInflight = o.maxInflight;
  if (o.maxBufferedBytes !== undefined) c.maxBufferedBytes = o.maxBufferedBytes;
  return new MqttConnection(owner, o.deviceId, c);
}

/** Opens one attempt on the engine the options ask for, when it carries the target. */
function open(t: PreparedTarget, o: MqttOpen, owner: DeviceOwner): MqttConnection | NativeDevice {
  if (o.engine !== 'native' || !nativeTarget(t) || loadNative() === null) return openMqtt(t, o, owner);
  const ep = t.endpoint;
  const native: NativeOpenOptions = {
    deviceId: o.deviceId,
    // hostIsIp was settled when the URL was parsed: no IP test per attempt.
    ip: ep.hostIsIp ? ep.host : '',
    port: ep.port,
    localAddress: o.localAddress,
    connectPacket: o.connectPacket,
    protocolVersion: connectProtocolVersion(o.connectPacket),
    connectTimeoutMs: o.connectTimeoutMs,
  };
  if (!ep.hostIsIp) native.hostName = ep.host;
  if (t.names !== null) native.names = t.names;
  if (o.slotCount !== undefined) native.slotCount = o.slotCount;
  if (ep.scheme === 'mqtts' && t.tls !== null) native.tls = t.tls;
  return openNativeDevice(owner, native, o.maxPacketBytes);
}

/**
 * Compiles the cohort's identity templates and settles its engine once; a device's CONNECT is built
 * on its first attempt (or before the run: prebuildOwn) and kept by slot for every later one.
 */
function prepare({ device: d, fixed, expand }: CohortSpec): (id: number, slot: number) => MqttOpenOptions {
  const t = (template: string | null) => (template === null ? null : compileIdTemplate(template, expand, fixed));
  const clientId = compileIdTemplate(d.clientId, expand, fixed);
  const username = t(d.username);
  const password = t(d.password);
  const engine = d.engine !== 'js' && nativeRefusal(d) === null ? 'native' : 'js';
  const keepaliveS = keepaliveSeconds(d.keepaliveUs);
  const expiryS = d.sessionExpiryS;
  const built = new PacketSlab();
  const connectOf = (id: number): Buffer => {
    const f: ConnectFields = {
      clientId: clientId(id),
      username: username === null ? null : username(id),
      password: password === null ? null : password(id),
      keepaliveS,
      clean: d.cleanSession,
      protocolVersion: d.mqttVersion,
    };
    if (expiryS !== null) f.sessionExpiryIntervalS = expiryS;
    return buildConnect(f);
  };
  return (id, slot) => ({ connectPacket: built.get(slot) ?? built.put(slot, connectOf(id)), engine });
}

export const MQTT_KIND = {
  schemes: ['mqtt', 'mqtts', 'ws', 'wss'],
  wsPath: '/mqtt',
  prepare,
  open,
  native: { refusal: nativeRefusal, carries: nativeTarget, carriesWhat: 'mqtt:// and mqtts://' },
} as const satisfies DeviceKindRow<MqttOpenOptions>;
