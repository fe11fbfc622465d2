/**
 * TLS on the native core (native/src/tls.c): a target's resolved TLS settings become one native
 * setting per core, made on first use — one SSL_CTX per client certificate pair, never one per
 * connection — with what Node's own client would use where herd leaves a field unset: Node's
 * bundled root certificates, its default cipher list and version bounds. Sessions stay in C, one
 * per device slot; which reconnects offer theirs is the JavaScript path's own share rule
 * (TlsSessionStore.offers), and handshakes are counted in the same store.
 */
import * as tls from 'node:tls';
import { isIP } from 'node:net';
import type { ResolvedTls } from '../transports/tls-options.js';
import type { TlsSessionStore } from '../transports/tls-sessions.js';
import type { NativeBinding, NativeHandle } from './binding.js';
import { TLS_KEY_EXCHANGE, TLS_RESUMED } from './codes.js';

const VERSIONS: Record<tls.SecureVersion, number> = {
  TLSv1: 0x301,
  'TLSv1.1': 0x302,
  'TLSv1.2': 0x303,
  'TLSv1.3': 0x304,
};

let bundledRoots: Buffer | undefined;

/** ALPN protocol names in the wire format (RFC 7301: each name after its length byte). */
export function alpnWire(names: readonly string[]): Buffer {
  return Buffer.concat(names.map((n) => Buffer.concat([Buffer.from([Buffer.byteLength(n)]), Buffer.from(n)])));
}

/** One core's native TLS settings, by the resolved settings and target IP they were made for. */
export class NativeTlsSettings {
  private readonly made = new WeakMap<ResolvedTls, Map<string, number>>();
  /** By setting index (1…): the store whose share rule and handshake counts the setting uses. */
  readonly stores: (TlsSessionStore | undefined)[] = [undefined];
  private readonly b: NativeBinding;
  private readonly h: NativeHandle;

  constructor(b: NativeBinding, h: NativeHandle) {
    this.b = b;
    this.h = h;
  }

  /** The native setting for `t` to `ip` or a host name (throws E_NATIVE when OpenSSL refuses it). */
  settingFor(t: ResolvedTls, ip: string): number {
    let byIp = this.made.get(t);
    if (byIp === undefined) {
      byIp = new Map();
      this.made.set(t, byIp);
    }
    const known = byIp.get(ip);
    if (known !== undefined) return known;
    const saves = t.sessions.savesSessions;
    const index = this.b.tlsConfig(
      this.h,
      t.ca ?? (bundledRoots ??= Buffer.from(tls.rootCertificates.join('\n'))),
      t.rejectUnauthorized,
      VERSIONS[t.minVersion ?? tls.DEFAULT_MIN_VERSION],
      VERSIONS[t.maxVersion ?? tls.DEFAULT_MAX_VERSION],
      tls.DEFAULT_CIPHERS,
      t.alpn === undefined ? null : alpnWire(t.alpn),
      // As Node: SNI is the servername or the host name (none for an IP), the certificate is checked
      // against the SNI name, else the IP.
      t.servername ?? (isIP(ip) === 0 ? ip : null),
      t.servername ?? ip,
      t.clientCerts.map((p) => p.cert),
      t.clientCerts.map((p) => p.key),
      saves ? t.sessions.maxEntries : 0,
      saves,
    );
    byIp.set(ip, index);
    this.stores[index] = t.sessions;
    return index;
  }

  /** A handshake done (EV_TLS, or taken from an attempt herd ended first): counted in its setting's store. */
  count(index: number, code: number): void {
    this.stores[index]?.countHandshake((code & TLS_RESUMED) !== 0, (code & TLS_KEY_EXCHANGE) !== 0);
  }

  /**
   * Herd ends attempt `slot` (of setting `index`; 0: plain) before its CONNACK: a handshake it
   * finished reports with the attempt's next event, which will not come, so it is counted now.
   */
  countUnreported(index: number, slot: number): void {
    if (index === 0) return;
    const code = this.b.tlsTakeDone(this.h, slot);
    if (code >= 0) this.count(index, code);
  }

  /** Whether device `slot` offers its session on this attempt (counted by the share rule). */
  offers(index: number, slot: number): boolean {
    const store = this.stores[index] as TlsSessionStore;
    // The store's own map stays empty for native devices: ask C only when the rule could say yes.
    return store.savesSessions && store.offers(this.b.tlsHasSession(this.h, index, slot));
  }
}
