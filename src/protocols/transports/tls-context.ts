/**
 * How a device's TLS socket is opened without paying for what Node would otherwise redo on every
 * connection (measured by bench/tls.js; docs/performance.md, "TLS handshake cost"):
 * - one SecureContext per fleet setting (and per client certificate pair), built on first use and
 *   shared by every connection of the process. `tls.connect({ ca, cert, key })` builds a fresh one
 *   per call, parsing the PEMs and copying the root store: ~0.6 ms of CPU per handshake here.
 * - the identity check reads the leaf certificate only. Node's onConnectSecure asks for the whole
 *   chain (getPeerCertificate(true)), walking the issuer store and converting every key to a JS
 *   object (~0.3 ms), although checkServerIdentity reads the leaf's subject and subjectaltname and
 *   nothing else. The chain itself is still verified by OpenSSL (verifyError), as before.
 */
import { constants } from 'node:crypto';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { LinkTarget } from './link.js';
import type { TlsSessionStore } from './tls-sessions.js';

/**
 * Contexts kept per process: ~34 KB each (a copy of the root store), so a fleet with thousands of
 * client certificates keeps the first 1,000 pairs' contexts and builds the rest per connection.
 */
export const MAX_CACHED_CONTEXTS = 1000;

/** What a context is built from: fixed for the run, so one context serves every connection. */
export interface ContextSettings {
  ca: Buffer | undefined;
  minVersion: tls.SecureVersion | undefined;
  maxVersion: tls.SecureVersion | undefined;
  /** Client certificate pairs (tls-options.ts ClientCertPair); device n uses pair n mod count. */
  clientCerts: readonly { cert: Buffer; key: Buffer }[];
  /**
   * TLS 1.3: also offer PSK resumption without (EC)DHE (psk_ke beside psk_dhe_ke), for fleets
   * that resume. The server chooses; OpenSSL before 3.3 (Mosquitto 2.0 here, Node 20) always takes
   * psk_dhe_ke when it is offered, and Node cannot offer psk_ke alone.
   */
  offerPskWithoutKeyExchange: boolean;
}

export class SecureContexts {
  private readonly settings: ContextSettings;
  private readonly cached: (tls.SecureContext | undefined)[] = [];

  constructor(settings: ContextSettings) {
    this.settings = settings;
  }

  /** Device `deviceKey`'s context: its client certificate pair's (pair n mod count), or the fleet's. */
  forDevice(deviceKey: number): tls.SecureContext {
    const pairs = this.settings.clientCerts.length;
    const slot = pairs === 0 ? 0 : deviceKey % pairs;
    if (slot >= MAX_CACHED_CONTEXTS) return this.build(slot);
    return (this.cached[slot] ??= this.build(slot));
  }

  /** Contexts built and kept so far. */
  get size(): number {
    return this.cached.filter((c) => c !== undefined).length;
  }

  private build(slot: number): tls.SecureContext {
    const s = this.settings;
    const o: tls.SecureContextOptions = {};
    if (s.ca !== undefined) o.ca = s.ca;
    if (s.minVersion !== undefined) o.minVersion = s.minVersion;
    if (s.maxVersion !== undefined) o.maxVersion = s.maxVersion;
    if (s.offerPskWithoutKeyExchange) o.secureOptions = constants.SSL_OP_ALLOW_NO_DHE_KEX;
    const pair = s.clientCerts[slot];
    if (pair !== undefined) {
      o.cert = pair.cert;
      o.key = pair.key;
    }
    return tls.createSecureContext(o);
  }
}

/** What opening one device's TLS socket needs (a ResolvedTls satisfies it). */
export interface TlsConnectSettings {
  rejectUnauthorized: boolean;
  servername: string | undefined;
  alpn: string[] | undefined;
  contexts: SecureContexts;
  sessions: TlsSessionStore;
}

/**
 * Opens one device's TLS socket (shared by the mqtts:// and wss:// adapters), from `localPort` on
 * the source address (0: the kernel picks one), offering `session` (the attempt's, taken once from
 * the store by the link: a redial from the next source port offers the same one).
 */
export function connectTls(
  t: LinkTarget,
  s: TlsConnectSettings,
  deviceKey: number,
  localPort: number,
  session: Buffer | undefined,
): tls.TLSSocket {
  // tls.connect hands these to net.Socket#connect, which honours localAddress and localPort.
  const o: tls.ConnectionOptions & { localAddress?: string; localPort?: number } = {
    host: t.address,
    port: t.port,
    rejectUnauthorized: s.rejectUnauthorized,
    secureContext: s.contexts.forDevice(deviceKey),
  };
  if (t.localAddress !== undefined) o.localAddress = t.localAddress;
  if (localPort !== 0) o.localPort = localPort;
  // Node refuses an IP as SNI. Node checks the certificate against the SNI name, else the IP.
  const sni = s.servername ?? (net.isIP(t.hostname) === 0 ? t.hostname : undefined);
  if (sni !== undefined) o.servername = sni;
  if (s.alpn !== undefined) o.ALPNProtocols = s.alpn;
  if (session !== undefined) o.session = session;
  const socket = tls.connect(o);
  // An own property wins over the prototype's for Node's `this.getPeerCertificate(true)` call; its
  // callers (checkServerIdentity, and herd never asks) read no issuer chain.
  socket.getPeerCertificate = leafCertificate as tls.TLSSocket['getPeerCertificate'];
  socket.setNoDelay(true);
  return socket;
}

const chainCertificate = tls.TLSSocket.prototype.getPeerCertificate;

/** The peer's certificate without its issuer chain, whatever the caller asked for. */
function leafCertificate(this: tls.TLSSocket): tls.PeerCertificate {
  return chainCertificate.call(this, false) as tls.PeerCertificate;
}

/**
 * Whether this handshake ran a key exchange: false for a TLS 1.2 abbreviated handshake or a
 * TLS 1.3 psk_ke resumption (no ephemeral key), true for every full one and psk_dhe_ke.
 */
export function ranKeyExchange(s: tls.TLSSocket): boolean {
  const info = s.getEphemeralKeyInfo();
  return info !== null && typeof info === 'object' && Object.keys(info).length > 0;
}
