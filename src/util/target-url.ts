/**
 * The URL schemes herd's devices can use, the names of the device kinds, and the one parser of
 * target URLs: a scenario's target, --target, cohort failover lists and each device's endpoint.
 * protocols/registry.ts builds its transport adapters from SCHEMES and every other list of schemes
 * (schemas, the embedded target's listeners) derives from it, so a new transport is one row here
 * plus its adapter. Which schemes a device kind uses is that kind's row in protocols/kinds.ts.
 */
import { isIP } from 'node:net';
import { HerdError } from '../errors.js';

/**
 * What a device speaks once its transport is up: the one list of device kinds, read by the scenario
 * schema, the results contract and protocols/kinds.ts (whose table must have a row for each).
 */
export const DEVICE_KINDS = ['mqtt', 'websocket'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

export interface SchemeInfo {
  defaultPort: number;
  /** TLS on the wire: needs resolved TLS settings. */
  secure: boolean;
  /** A WebSocket upgrade comes first, so the URL's path matters. */
  websocket: boolean;
}

export const SCHEMES = {
  mqtt: { defaultPort: 1883, secure: false, websocket: false },
  mqtts: { defaultPort: 8883, secure: true, websocket: false },
  ws: { defaultPort: 80, secure: false, websocket: true },
  wss: { defaultPort: 443, secure: true, websocket: true },
} as const satisfies Record<string, SchemeInfo>;

export type TransportScheme = keyof typeof SCHEMES;

/** In table order; a non-empty tuple so it can feed z.enum. */
export const SCHEME_NAMES = Object.keys(SCHEMES) as [TransportScheme, ...TransportScheme[]];

/** What a kind of device asks of its URLs (a row of protocols/kinds.ts has these). */
export interface KindUrls {
  readonly schemes: readonly TransportScheme[];
  /** The WebSocket request path when a ws:// or wss:// URL gives none. */
  readonly wsPath: string;
}

/** "mqtt://, mqtts://, ws://, wss://" for messages. */
export function listSchemes(schemes: readonly TransportScheme[] = SCHEME_NAMES): string {
  return schemes.map((s) => s + '://').join(', ');
}

export interface TargetAddress {
  url: string;
  scheme: TransportScheme;
  /** Host name or IP, without IPv6 brackets. */
  host: string;
  port: number;
  /**
   * WebSocket path with query: "/mqtt" by default for MQTT over WebSocket, "/" for websocket devices; "" without
   * WebSocket.
   */
  path: string;
  secure: boolean;
  /** False when a name was given: each attempt then has a dns phase. */
  hostIsIp: boolean;
}

/**
 * Parses a target URL; throws E_TARGET_URL naming `field` when herd cannot use it. With `kind`, the
 * scheme must also suit that kind of device, and the WebSocket path defaults for it.
 */
export function parseTargetUrl(text: string, field = 'target', kind?: KindUrls & { name: string }): TargetAddress {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new HerdError(
      'E_TARGET_URL',
      `${field}: expected a URL like "mqtt://127.0.0.1:1883", got ${JSON.stringify(text)}`,
    );
  }
  const given = u.protocol.replace(/:$/, '');
  const allowed = kind === undefined ? SCHEME_NAMES : kind.schemes;
  // The table's own string, not the one cut from the URL: every target's scheme is then the same
  // string object, and code V8 optimised on one target's (the warm-up's) still fits the next.
  const scheme = allowed.find((s) => s === given);
  if (scheme === undefined) {
    const what =
      kind === undefined ? `unsupported scheme "${given}://"` : `a ${kind.name} device cannot use "${given}://"`;
    throw new HerdError('E_TARGET_URL', `${field}: ${what}; supported: ${listSchemes(allowed)}`);
  }
  const info = SCHEMES[scheme];
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (host === '') throw new HerdError('E_TARGET_URL', `${field}: the URL has no host: ${JSON.stringify(text)}`);
  const port = u.port === '' ? info.defaultPort : Number(u.port);
  if (port === 0)
    throw new HerdError(
      'E_TARGET_URL',
      `${field}: port 0 is not a port a device can connect to: ${JSON.stringify(text)}`,
    );
  const defaultPath = kind?.wsPath ?? '/mqtt';
  const path = info.websocket ? (u.pathname === '/' && u.search === '' ? defaultPath : u.pathname + u.search) : '';
  return {
    url: text,
    scheme,
    host,
    port,
    path,
    secure: info.secure,
    hostIsIp: isIP(host) !== 0,
  };
}

/** The distinct host names (not IPs) of these target URLs, in order; URLs herd cannot parse are skipped. */
export function hostNamesOf(urls: readonly string[]): string[] {
  const names = new Set<string>();
  for (const u of urls) {
    try {
      const t = parseTargetUrl(u);
      if (!t.hostIsIp) names.add(t.host);
    } catch {
      // Not a target URL herd could use: no name of one (the run validates its targets elsewhere).
    }
  }
  return [...names];
}

/** A loopback host: 127.0.0.0/8, ::1 (with or without brackets) or localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (h === '::1' || h === 'localhost') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}
