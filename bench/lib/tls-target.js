/**
 * The TLS bench's target: a fresh ECDSA P-256 CA and server certificate made with the openssl CLI
 * in a temp folder (no network), and a private Mosquitto with one TLS listener on a free loopback
 * port (`set_tcp_nodelay true`, `tls_version` per measurement), ended by the PID we started — or,
 * for the plain-TCP baseline of the same runs, the same broker with a plain listener.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './procs.js';
import { spawnMosquitto } from './targets.js';

const HOST = '127.0.0.1';

/**
 * @typedef {{ dir: string, ca: string, cert: string, key: string }} Certs
 * @returns {Certs}
 */
export function makeCerts() {
  const dir = mkdtempSync(join(tmpdir(), 'herd-bench-tls-'));
  const p = (f) => join(dir, f);
  const ssl = (...args) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.crt'), '-days', '2', '-subj', '/CN=herd bench CA');
  ssl('req', ...ec, '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=localhost');
  writeFileSync(p('san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  ssl(
    'x509',
    '-req',
    '-in',
    p('server.csr'),
    '-CA',
    p('ca.crt'),
    '-CAkey',
    p('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    p('san.ext'),
    '-out',
    p('server.crt'),
  );
  // Mosquitto started as root reads its files after dropping to its own user: throwaway keys, so
  // world-readable for the bench's lifetime (the folder is removed at the end).
  chmodSync(dir, 0o755);
  for (const f of readdirSync(dir)) chmodSync(p(f), 0o644);
  return { dir, ca: p('ca.crt'), cert: p('server.crt'), key: p('server.key') };
}

/**
 * Mosquitto 2.0's `tls_version` is the listener's *lowest* version: tlsv1.2 still allows 1.3, so
 * the TLS 1.2 measurements also cap the clients at 1.2 (herd's maxVersion, s_time's -tls1_2).
 * @param {string} binary
 * @param {Certs} certs
 * @param {'TLSv1.2' | 'TLSv1.3'} version
 * @param {boolean} [plain]  a plain-TCP listener instead (mqtt://), everything else the same
 * @returns {Promise<{ host: string, port: number, url: string, pid: number, stop(): Promise<void> }>}
 */
export async function startTlsMosquitto(binary, certs, version, plain = false) {
  let last;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(binary, certs, version, plain);
    } catch (err) {
      last = err; // the probed port was taken before Mosquitto bound it
    }
  }
  throw last;
}

async function startOnce(binary, certs, version, plain) {
  const port = await freePort(HOST);
  const dir = mkdtempSync(join(tmpdir(), 'herd-bench-mosq-tls-'));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      // Without it every CONNACK over TLS waits ~44 ms (Nagle against the client's delayed ACK).
      'set_tcp_nodelay true',
      'allow_anonymous true',
      'max_connections -1',
      // Errors only (a certificate it cannot read), so a failed start says why.
      'log_dest stderr',
      'log_type error',
      'persistence false',
      `listener ${port} ${HOST}`,
      ...(plain
        ? []
        : [
            `cafile ${certs.ca}`,
            `certfile ${certs.cert}`,
            `keyfile ${certs.key}`,
            `tls_version ${version === 'TLSv1.3' ? 'tlsv1.3' : 'tlsv1.2'}`,
          ]),
      '',
    ].join('\n'),
  );
  const broker = await spawnMosquitto(binary, conf, dir, port);
  return { host: HOST, port, url: `${plain ? 'mqtt' : 'mqtts'}://${HOST}:${port}`, ...broker };
}
