/**
 * The Node floor of the TLS bench, run as its own process against one listener. Prints one JSON
 * line: CPU (user + system) from the first connect to the last handshake divided by the
 * handshakes, and how many resumed and how many skipped the key exchange (no ephemeral key:
 * getEphemeralKeyInfo() is empty).
 *
 *   node bench/lib/tls-floor.js '{"port":8883,"ca":"ca.crt","version":"TLSv1.3","mode":"plain","count":1500}'
 *
 * mode 'plain': tls.connect with the options herd passed before it shared a context (ca per call).
 * mode 'tuned': one SecureContext for every connection and the leaf-only identity check herd uses
 * (src/protocols/transports/tls-context.ts): what Node + OpenSSL cost at best with verification on.
 * Without `ratePerS`: one handshake at a time like `openssl s_time`, each closed right after it
 * (close_notify, then FIN). With `ratePerS`: what herd's bench runs do, without herd — connections
 * opened at that rate (open model), an MQTT CONNECT sent and its CONNACK awaited, every session
 * held until the last one is in.
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
const CONNECT_HEAD = Buffer.from('101c00044d5154540402001e0010', 'hex');
let clientIds = 0;
/** MQTT 3.1.1 CONNECT, keepalive 30 s, a client id of its own (a shared one makes the broker take sessions over). */
function connectPacket() {
  return Buffer.concat([CONNECT_HEAD, Buffer.from(`tls-floor-${String(clientIds++).padStart(6, '0')}`)]);
}

let session;
const tally = { handshakes: 0, resumed: 0, keyExchangeSkipped: 0, errors: 0, firstError: null };

/** Opens one connection; `done` runs once it is finished with (closed, or CONNACK'd when held). */
function open(done, { prime = false, hold = false } = {}) {
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
    if (hold) s.write(connectPacket());
    else if (!prime) s.end();
  });
  let reported = false;
  s.on('data', (d) => {
    if (hold && !reported && d[0] === 0x20) {
      reported = true;
      done(s);
    }
  });
  s.on('error', (err) => {
    tally.errors++;
    tally.firstError ??= err.message;
  });
  s.on('close', () => {
    // A held session that closed before its CONNACK still ends its wait (counted in errors).
    if (!reported) done(hold ? null : s);
    reported = true;
  });
}

const sequential = () => new Promise((resolve) => open(resolve));

/** Opens `count` held sessions at `ratePerS`; resolves once every one has its CONNACK (or failed). */
function paced(ratePerS) {
  const held = [];
  return new Promise((resolve) => {
    const t0 = performance.now();
    let opened = 0;
    let finished = 0;
    const finish = (s) => {
      if (s !== null) held.push(s);
      if (++finished === count) resolve(held);
    };
    const tick = () => {
      const due = Math.min(count, Math.floor(((performance.now() - t0) / 1000) * ratePerS) + 1);
      while (opened < due) {
        opened++;
        open(finish, { hold: true });
      }
      if (opened < count && Date.now() < deadlineMs) setTimeout(tick, Math.max(1, Math.floor(1000 / ratePerS)));
      else if (opened < count) resolve(held);
    };
    tick();
  });
}

if (o.resume) await new Promise((resolve) => open(resolve, { prime: true }));
const before = { ...tally };
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let held = [];
if (o.ratePerS) held = await paced(Number(o.ratePerS));
else for (let done = 0; done < count && Date.now() < deadlineMs; done++) await sequential();
const cpu = process.cpuUsage(cpu0);
const seconds = (performance.now() - t0) / 1000;
for (const s of held) s.destroy();
const n = tally.handshakes - before.handshakes;
process.stdout.write(
  `${JSON.stringify({
    handshakes: n,
    resumed: tally.resumed - before.resumed,
    keyExchangeSkipped: tally.keyExchangeSkipped - before.keyExchangeSkipped,
    errors: tally.errors,
    firstError: tally.firstError,
    cpuUsPerHandshake: n > 0 ? (cpu.user + cpu.system) / n : null,
    perS: n / seconds,
  })}\n`,
);
