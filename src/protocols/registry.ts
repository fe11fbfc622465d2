/**
 * The transport registry, keyed by URL scheme (STYLE.md #4): mqtt:// (TCP), mqtts:// (TLS),
 * ws:// and wss:// (WebSocket, for MQTT-over-WebSocket and plain WebSocket devices).
 */
import * as net from 'node:net';
import { HerdError } from '../errors.js';
import type { Link, LinkHandler, LinkTarget } from './transports/link.js';
import { openTcpLink, openTlsLink } from './transports/tcp.js';
import type { ResolvedTls } from './transports/tls-options.js';
import { openWsLink } from './transports/ws.js';

export type TransportScheme = 'mqtt' | 'mqtts' | 'ws' | 'wss';
/** What a device speaks once its transport is up. */
export type DeviceKind = 'mqtt' | 'websocket';

/** Everything an adapter may need for one attempt besides the address. */
export interface LinkContext {
  /** Resolved TLS settings; required by mqtts:// and wss://. */
  tls: ResolvedTls | null;
  /** The device's index: picks its client certificate and cached TLS session. */
  deviceKey: number;
  /** WebSocket subprotocol ("mqtt" for MQTT over WebSocket). */
  subprotocol: string | undefined;
  maxMessageBytes: number;
  headers: Record<string, string> | undefined;
}

export interface TransportAdapter {
  defaultPort: number;
  secure: boolean;
  websocket: boolean;
  open(t: LinkTarget, ctx: LinkContext, h: LinkHandler): Link;
}

export const TRANSPORTS: Record<TransportScheme, TransportAdapter> = {
  mqtt: { defaultPort: 1883, secure: false, websocket: false, open: (t, _c, h) => openTcpLink(t, h) },
  mqtts: { defaultPort: 8883, secure: true, websocket: false, open: (t, c, h) => openTlsLink(t, needTls(c), c.deviceKey, h) },
  ws: { defaultPort: 80, secure: false, websocket: true, open: (t, c, h) => openWsLink(t, null, c.deviceKey, wsOpts(c), h) },
  wss: { defaultPort: 443, secure: true, websocket: true, open: (t, c, h) => openWsLink(t, needTls(c), c.deviceKey, wsOpts(c), h) },
};

/** The schemes each device kind can use. */
export const DEVICE_SCHEMES: Record<DeviceKind, readonly TransportScheme[]> = {
  mqtt: ['mqtt', 'mqtts', 'ws', 'wss'],
  websocket: ['ws', 'wss'],
};

export interface Endpoint {
  url: string;
  scheme: TransportScheme;
  /** Host name or IP, without IPv6 brackets. */
  host: string;
  port: number;
  /** WebSocket path (with query); "/mqtt" by default for MQTT over WebSocket, "/" for plain devices. */
  path: string;
  secure: boolean;
  /** False when a name was given: each attempt then has a dns phase. */
  hostIsIp: boolean;
}

/** Parses a device target URL; throws E_TARGET_URL naming `field` when herd cannot use it. */
export function parseEndpoint(text: string, kind: DeviceKind, field = 'target'): Endpoint {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new HerdError('E_TARGET_URL', `${field}: expected a URL like "mqtt://127.0.0.1:1883", got ${JSON.stringify(text)}`);
  }
  const scheme = u.protocol.replace(/:$/, '');
  const allowed = DEVICE_SCHEMES[kind];
  if (!(allowed as readonly string[]).includes(scheme)) {
    throw new HerdError(
      'E_TARGET_URL',
      `${field}: a ${kind} device cannot use "${scheme}://"; supported: ${allowed.map((s) => s + '://').join(', ')}`,
    );
  }
  const s = scheme as TransportScheme;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (host === '') throw new HerdError('E_TARGET_URL', `${field}: the URL has no host: ${JSON.stringify(text)}`);
  const adapter = TRANSPORTS[s];
  const port = u.port === '' ? adapter.defaultPort : Number(u.port);
  const defaultPath = kind === 'mqtt' ? '/mqtt' : '/';
  const path = adapter.websocket ? (u.pathname === '/' && u.search === '' ? defaultPath : u.pathname + u.search) : '';
  return { url: text, scheme: s, host, port, path, secure: adapter.secure, hostIsIp: net.isIP(host) !== 0 };
}

function needTls(c: LinkContext): ResolvedTls {
  // Programmer error: the factory always resolves TLS for secure schemes.
  if (c.tls === null) throw new Error('a secure scheme was opened without resolved TLS settings');
  return c.tls;
}

function wsOpts(c: LinkContext): { subprotocol: string | undefined; maxMessageBytes: number; headers: Record<string, string> | undefined } {
  return { subprotocol: c.subprotocol, maxMessageBytes: c.maxMessageBytes, headers: c.headers };
}
