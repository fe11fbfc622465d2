/**
 * The plain WebSocket device kind: it upgrades (ws://, wss://), optionally says hello, keeps alive
 * with ping/pong and receives messages.
 */
import type { CohortSpec, DeviceKindRow, DeviceOpenOptions, DeviceOwner, PreparedTarget } from '../device.js';
import { compileIdTemplate } from '../identity.js';
import { WsDevice } from './device.js';

/** A WebSocket device's own open options. */
export interface WsOpenOptions {
  /** Upgrade request headers. */
  headers?: Record<string, string>;
  /** The subprotocol offered. */
  subprotocol?: string;
  /** Sent right after the upgrade: a string as a text frame, a Buffer as a binary frame. */
  hello?: string | Buffer;
}

/** Opens one plain WebSocket attempt. */
export function openWebSocket(t: PreparedTarget, o: DeviceOpenOptions & WsOpenOptions, owner: DeviceOwner): WsDevice {
  const ep = t.endpoint;
  if (ep.scheme !== 'ws' && ep.scheme !== 'wss') throw new Error(`a websocket device cannot use ${ep.scheme}://`);
  return new WsDevice(owner, o.deviceId, {
    scheme: ep.scheme,
    host: ep.host,
    port: ep.port,
    path: ep.path,
    localAddress: o.localAddress,
    connectTimeoutMs: o.connectTimeoutMs,
    maxMessageBytes: o.maxPacketBytes,
    names: t.names,
    ...(t.tls !== null ? { tls: t.tls } : {}),
    ...(o.headers !== undefined ? { headers: o.headers } : {}),
    ...(o.subprotocol !== undefined ? { subprotocol: o.subprotocol } : {}),
    ...(o.hello !== undefined ? { hello: o.hello } : {}),
    ...(o.maxBufferedBytes !== undefined ? { maxBufferedBytes: o.maxBufferedBytes } : {}),
  });
}

function prepare({ device: d, fixed, expand }: CohortSpec): (id: number) => WsOpenOptions {
  const hello = d.hello === null ? null : compileIdTemplate(d.hello, expand, fixed);
  const subprotocol = d.subprotocol === null ? {} : { subprotocol: d.subprotocol };
  if (hello === null) return () => subprotocol;
  return (id) => ({ ...subprotocol, hello: hello(id) });
}

export const WEBSOCKET_KIND = {
  schemes: ['ws', 'wss'],
  wsPath: '/',
  prepare,
  open: openWebSocket,
} as const satisfies DeviceKindRow<WsOpenOptions>;
