/**
 * TLS settings of a fleet, loaded once per process: CA (file or the system store), insecure
 * opt-in, SNI, ALPN, version bounds, a client certificate per device (mTLS fleets) and the share of
 * reconnects that offer a cached session. Bad files are bad input (HerdError naming the field).
 */
import { readdirSync } from 'node:fs';
import { MAX_PEM_BYTES, readInputFile } from '../../util/input-file.js';
import { basename, dirname, join } from 'node:path';
import type { SecureVersion } from 'node:tls';
import { HerdError } from '../../errors.js';
import { SecureContexts } from './tls-context.js';
import { TlsSessionStore } from './tls-sessions.js';

export interface TlsSettings {
  /** PEM file of the CA(s) to trust; default: Node's bundled/system store. */
  ca?: string;
  /** Accept any server certificate (rejectUnauthorized: false). Off unless asked. */
  insecure?: boolean;
  /** SNI name; default: the target's host name (none when the target is an IP). */
  servername?: string;
  /** ALPN protocol names offered, e.g. ["mqtt"] or ["x-amzn-mqtt-ca"]. */
  alpn?: string[];
  minVersion?: SecureVersion;
  maxVersion?: SecureVersion;
  /**
   * Client certificates: a directory of <name>.crt + <name>.key pairs, or a template such as
   * "fixtures/tls/clients/device-{id}.crt" (key: same name with .key). Device n uses pair n mod count.
   */
  clientCert?: string;
  /** 0..1: share of reconnects that offer the device's cached TLS session. Default 0. */
  resume?: number;
  /** Cap on cached sessions held per process (oldest evicted). Default 100,000. */
  maxCachedSessions?: number;
}

export interface ClientCertPair {
  name: string;
  cert: Buffer;
  key: Buffer;
}

export interface ResolvedTls {
  ca: Buffer | undefined;
  rejectUnauthorized: boolean;
  servername: string | undefined;
  alpn: string[] | undefined;
  minVersion: SecureVersion | undefined;
  maxVersion: SecureVersion | undefined;
  clientCerts: readonly ClientCertPair[];
  sessions: TlsSessionStore;
  /** The SecureContexts every connection of this process shares (built on first use). */
  contexts: SecureContexts;
}

const VERSIONS: readonly string[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** Validates every setting and reads every file now, so a run never starts with a bad certificate. */
export function resolveTls(s: TlsSettings, field = 'device.tls'): ResolvedTls {
  const problems: string[] = [];
  const read = (path: string, what: string): Buffer | undefined => {
    const r = readInputFile(path, MAX_PEM_BYTES);
    if (!r.ok) {
      problems.push(`${what}: cannot read ${path} (${r.code ?? r.why})`);
      return undefined;
    }
    if (!r.bytes.includes('-----BEGIN')) problems.push(`${what}: ${path} is not a PEM file (no -----BEGIN line)`);
    return r.bytes;
  };
  const ca = s.ca === undefined ? undefined : read(s.ca, `${field}.ca`);
  for (const k of ['minVersion', 'maxVersion'] as const) {
    const v = s[k];
    if (v !== undefined && !VERSIONS.includes(v))
      problems.push(`${field}.${k}: expected one of ${VERSIONS.join(', ')}, got ${JSON.stringify(v)}`);
  }
  if (
    s.minVersion !== undefined &&
    s.maxVersion !== undefined &&
    VERSIONS.indexOf(s.minVersion) > VERSIONS.indexOf(s.maxVersion)
  ) {
    problems.push(`${field}.minVersion: ${s.minVersion} is above maxVersion ${s.maxVersion}`);
  }
  const resume = s.resume ?? 0;
  if (!(resume >= 0 && resume <= 1))
    problems.push(`${field}.resume: expected a share between 0 and 1, got ${String(s.resume)}`);
  const maxCached = s.maxCachedSessions ?? 100_000;
  if (!Number.isInteger(maxCached) || maxCached < 0)
    problems.push(`${field}.maxCachedSessions: expected a whole number >= 0`);
  if (s.alpn !== undefined && (s.alpn.length === 0 || s.alpn.some((p) => p.length === 0 || p.length > 255))) {
    problems.push(`${field}.alpn: expected a non-empty list of protocol names of 1..255 characters`);
  }
  const clientCerts =
    s.clientCert === undefined ? [] : loadClientCerts(s.clientCert, `${field}.clientCert`, read, problems);
  if (problems.length > 0) throw new HerdError('E_SCENARIO_INVALID', `${field}: invalid TLS settings`, problems);
  const sessions = new TlsSessionStore(resume, maxCached);
  return {
    ca,
    rejectUnauthorized: s.insecure !== true,
    servername: s.servername,
    alpn: s.alpn,
    minVersion: s.minVersion,
    maxVersion: s.maxVersion,
    clientCerts,
    sessions,
    contexts: new SecureContexts({
      ca,
      minVersion: s.minVersion,
      maxVersion: s.maxVersion,
      clientCerts,
      offerPskWithoutKeyExchange: sessions.savesSessions,
    }),
  };
}

/** Device n's client certificate pair (n mod the pairs available), or null without mTLS. */
export function clientCertFor(t: ResolvedTls, deviceId: number): ClientCertPair | null {
  const n = t.clientCerts.length;
  return n === 0 ? null : (t.clientCerts[deviceId % n] as ClientCertPair);
}

function loadClientCerts(
  spec: string,
  field: string,
  read: (path: string, what: string) => Buffer | undefined,
  problems: string[],
): ClientCertPair[] {
  let dir: string;
  let match: (file: string) => number | null;
  if (spec.includes('{id}')) {
    dir = dirname(spec);
    const [before, after] = basename(spec).split('{id}') as [string, string];
    const re = new RegExp(`^${escapeRe(before)}(\\d+)${escapeRe(after)}$`);
    match = (f) => {
      const m = re.exec(f);
      return m === null ? null : Number(m[1]);
    };
  } else {
    dir = spec;
    match = (f) => (f.endsWith('.crt') ? 0 : null);
  }
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch (err) {
    problems.push(`${field}: cannot list ${dir} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return [];
  }
  // Template files sort by their number so device n gets device-n.crt when all exist.
  const picked = files
    .map((f) => ({ f, n: match(f) }))
    .filter((x): x is { f: string; n: number } => x.n !== null)
    .sort((a, b) => a.n - b.n || (a.f < b.f ? -1 : a.f > b.f ? 1 : 0));
  if (picked.length === 0) {
    problems.push(`${field}: no certificate files match ${spec} (expected <name>.crt with a <name>.key beside it)`);
    return [];
  }
  const out: ClientCertPair[] = [];
  for (const { f } of picked) {
    const certPath = join(dir, f);
    const keyPath = certPath.replace(/\.(crt|pem)$/, '') + '.key';
    const cert = read(certPath, field);
    const key = read(keyPath, `${field} (key)`);
    if (cert !== undefined && key !== undefined) out.push({ name: f.replace(/\.(crt|pem)$/, ''), cert, key });
  }
  return out;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
