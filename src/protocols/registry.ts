/**
 * The transport registry, keyed by URL scheme: mqtt:// (TCP), mqtts:// (TLS),
 * ws:// and wss:// (WebSocket, for MQTT-over-WebSocket and plain WebSocket devices). The schemes,
 * their ports and flags come from util/target-url.ts; this adds how each one opens a link.
 */
import { SCHEME_NAMES, SCHEMES, type DeviceKind, type SchemeInfo, type TransportScheme } from '../util/target-url.js';
import type { Link, LinkHandler, LinkTarget } from './transports/link.js';
import { openTcpLink, openTlsLink } from './transports/tcp.js';
import type { ResolvedTls } from './transports/tls-options.js';
import { openWsLink } from './transports/ws.js';

// The scheme table lives low (util/) so scenario/ and results/ can name schemes; adapters are built from it here.
export type { DeviceKind, TransportScheme };

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

export interface TransportAdapter extends SchemeInfo {
  open(t: LinkTarget, ctx: LinkContext, h: LinkHandler): Link;
}

const OPEN: Record<TransportScheme, TransportAdapter['open']> = {
  mqtt: (t, _c, h) => openTcpLink(t, h),
  mqtts: (t, c, h) => openTlsLink(t, needTls(c), c.deviceKey, h),
  ws: (t, c, h) => openWsLink(t, null, c.deviceKey, wsOpts(c), h),
  wss: (t, c, h) => openWsLink(t, needTls(c), c.deviceKey, wsOpts(c), h),
};

export const TRANSPORTS = {} as Record<TransportScheme, TransportAdapter>;
for (const s of SCHEME_NAMES) TRANSPORTS[s] = { ...SCHEMES[s], open: OPEN[s] };

function needTls(c: LinkContext): ResolvedTls {
  // Programmer error: the factory always resolves TLS for secure schemes.
  if (c.tls === null) throw new Error('a secure scheme was opened without resolved TLS settings');
  return c.tls;
}

function wsOpts(c: LinkContext): {
  subprotocol: string | undefined;
  maxMessageBytes: number;
  headers: Record<string, string> | undefined;
} {
  return { subprotocol: c.subprotocol, maxMessageBytes: c.maxMessageBytes, headers: c.headers };
}
