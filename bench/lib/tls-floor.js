/**
 * The Node floor of the TLS bench, run as its own process: a plain `tls.connect` loop against one
 * listener, one handshake at a time like `openssl s_time`, each connection closed right after its
 * handshake (close_notify, then FIN). Prints one JSON line: CPU (user + system) from the first
 * connect to the last close divided by the handshakes, and how many resumed and how many skipped
 * the key exchange (no ephemeral key: getEphemeralKeyInfo() is empty).
 *
 *   node bench/lib/tls-floor.js '{"port":8883,"ca":"ca.crt","version":"TLSv1.3","mode":"plain","count":1500}'
 *
 * mode 'plain': tls.connect with the options herd passed before it shared a context (ca per call).
 * mode 'tuned': one SecureContext for every connection and the leaf-only identity check herd uses
 * (src/protocols/transports/tls-context.ts): what Node + OpenSSL cost at best with verification on.
 * resume: a first connection (not counted) waits for its session; every later one offers it.
 */
import { readFileSync } from 'node:fs';
import * as tls from 'node:tls';

const o = JSON.parse(process.argv[2] ?? '{}');
const count = Number(o.count ?? 1500);
const deadlineMs = Date.now() + Number(o.timeoutMs ?? 60_000);
const ca = readFileSync(o.ca);
const versions = { minVersion: o.version, maxVersion: o.version };
const context = tls.createSecureContext({ ca, ...versions });
const peerCertificate = tls.TLSSocket.prototype.getPeerCertificate;
function leafOnly() {
  return peerCertificate.call(this, false);
}

let session;
const tally = { handshakes: 0, resumed: 0, keyExchangeSkipped: 0, errors: 0, firstError: null };

function once(prime = false) {
  return new Promise((resolve) => {
    const opts = { host: '127.0.0.1', port: o.port, rejectUnauthorized: true };
    if (o.mode === 'tuned') opts.secureContext = context;
    else Object.assign(opts, { ca }, versions);
    if (o.resume && session !== undefined) opts.session = session;
    const s = tls.connect(opts);
    s.setNoDelay(true);
    if (o.mode === 'tuned') s.getPeerCertificate = leafOnly;
    if (prime) {
      // TLS 1.3 tickets arrive after the handshake: close once one is here.
      s.on('session', (b) => {
        session ??= b;
        // Not from inside OpenSSL's ticket callback: a close_notify written there draws a decode_error alert.
        setImmediate(() => s.end());
      });
    }
    s.on('secureConnect', () => {
      tally.handshakes++;
      if (s.isSessionReused()) tally.resumed++;
      if (Object.keys(s.getEphemeralKeyInfo() ?? {}).length === 0) tally.keyExchangeSkipped++;
      if (!prime) s.end();
    });
    s.on('data', () => {});
    s.on('error', (err) => {
      tally.errors++;
      tally.firstError ??= err.message;
    });
    s.on('close', resolve);
  });
}

if (o.resume) await once(true);
const handshakes0 = tally.handshakes;
const resumed0 = tally.resumed;
const skipped0 = tally.keyExchangeSkipped;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let done = 0;
while (done < count && Date.now() < deadlineMs) {
  await once();
  done++;
}
const cpu = process.cpuUsage(cpu0);
const n = tally.handshakes - handshakes0;
process.stdout.write(`${JSON.stringify({
  handshakes: n,
  resumed: tally.resumed - resumed0,
  keyExchangeSkipped: tally.keyExchangeSkipped - skipped0,
  errors: tally.errors,
  firstError: tally.firstError,
  cpuUsPerHandshake: n > 0 ? (cpu.user + cpu.system) / n : null,
  perS: n / ((performance.now() - t0) / 1000),
})}\n`);
