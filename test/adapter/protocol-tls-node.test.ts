/**
 * herd's TLS connect path against node:tls servers on loopback port 0 (no Mosquitto needed), both
 * sides asked what happened: full vs resumed handshakes as herd reports and as the server saw them,
 * whether a resumption skipped the key exchange (TLS 1.2: yes; TLS 1.3 on OpenSSL 3.0: the server
 * takes psk_dhe_ke even when psk_ke is offered), one SecureContext shared per setting and per
 * client certificate pair, the identity check on the leaf certificate, and the ClientHello's PSK
 * key exchange modes. Run on the JavaScript path and on the native core (when built): both clients
 * make the same handshakes, counted in the same store by the same share rule.
 */
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { constants } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Device, PreparedTarget } from '../../src/protocols/device.js';
import { DEVICE_KIND_ROWS, prepareTarget } from '../../src/protocols/kinds.js';
import { buildConnect } from '../../src/protocols/mqtt/connect-packet.js';
import { closeNativeCore } from '../../src/protocols/native/core.js';
import type { TlsSettings } from '../../src/protocols/transports/tls-options.js';
import { NativeDevice } from '../../src/protocols/native/device.js';
import { engines } from '../helpers/native.js';
import { RecordingOwner } from './protocol-owner.js';

const TLS_DIR = new URL('../../fixtures/tls/', import.meta.url).pathname;
const CA = `${TLS_DIR}ca.crt`;
const CONNACK = Buffer.from([0x20, 0x02, 0x00, 0x00]);

interface Seen {
  resumed: boolean;
  peerCn: string | null;
}

const servers: net.Server[] = [];
let engine: 'js' | 'native' = 'js';
/** One owner per test, as one engine runner owns a run: the native core (and its TLS sessions) is the owner's. */
let owner = new RecordingOwner();
afterEach(async () => {
  closeNativeCore(owner);
  owner = new RecordingOwner();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A TLS server that answers CONNECT with CONNACK and closes on DISCONNECT; records each handshake. */
async function mqttTlsServer(o: tls.TlsOptions = {}): Promise<{ port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const srv = tls.createServer(
    { key: readFileSync(`${TLS_DIR}server.key`), cert: readFileSync(`${TLS_DIR}server.crt`), ...o },
    (s) => {
      const peer = s.getPeerCertificate();
      seen.push({
        resumed: s.isSessionReused(),
        peerCn: typeof peer?.subject?.CN === 'string' ? peer.subject.CN : null,
      });
      s.on('data', (d) => {
        if (d[0] === 0x10) s.write(CONNACK);
        if (d.includes(0xe0)) s.end();
      });
      s.on('error', () => {});
    },
  );
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { port: (srv.address() as net.AddressInfo).port, seen };
}

/**
 * One attempt of device `id` on the engine under test; ends the session cleanly when it connected.
 * `resumed` is read at once: a native slot's device is reused by its next attempt.
 */
async function once(t: PreparedTarget, id: number): Promise<{ c: Device; failure: unknown; resumed: boolean | null }> {
  owner.events.length = 0; // this attempt's outcome only
  const c = DEVICE_KIND_ROWS.mqtt.open(
    t,
    {
      engine,
      deviceId: id,
      localAddress: undefined,
      connectTimeoutMs: 5_000,
      maxPacketBytes: 64 * 1024,
      connectPacket: buildConnect({
        clientId: `tls-node-${id}`,
        username: null,
        password: null,
        keepaliveS: 30,
        clean: true,
        protocolVersion: 4,
      }),
    },
    owner,
  );
  const r = await owner.outcome(id);
  const resumed = c.tlsResumed;
  if (r.kind === 'connected') {
    c.end();
    await owner.waitKind('closed', id);
  } else await owner.waitFor(() => c.state === 'closed');
  return { c, failure: r.failure ?? null, resumed };
}

const target = (port: number, s: TlsSettings, host = '127.0.0.1'): PreparedTarget =>
  prepareTarget('mqtt', `mqtts://${host}:${port}`, s);

describe.each(engines())('TLS against node:tls on loopback (%s)', (e) => {
  beforeEach(() => {
    engine = e;
  });

  it('runs on the engine it names', async () => {
    const { port } = await mqttTlsServer();
    const { c, failure } = await once(target(port, { ca: CA }), 0);
    expect(failure).toBeNull();
    expect(c instanceof NativeDevice).toBe(e === 'native');
  });

  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    it(`${version}: a full handshake is reported as full and a resumed one as resumed, as the server saw them`, async () => {
      // The server allows resumption without (EC)DHE; herd offers psk_ke because this fleet resumes.
      const { port, seen } = await mqttTlsServer({
        maxVersion: version,
        secureOptions: constants.SSL_OP_ALLOW_NO_DHE_KEX,
      });
      const t = target(port, { ca: CA, resume: 1, minVersion: version, maxVersion: version });
      const first = await once(t, 3);
      const second = await once(t, 3);
      expect([first.failure, second.failure]).toEqual([null, null]);
      expect([first.resumed, second.resumed]).toEqual([false, true]);
      expect(seen.map((s) => s.resumed)).toEqual([false, true]);
      const store = t.tls!.sessions;
      expect([store.fullHandshakes, store.resumedHandshakes]).toEqual([1, 1]);
      // TLS 1.2 resumes with an abbreviated handshake (no key exchange). OpenSSL 3.0 servers pick
      // psk_dhe_ke whenever it is offered, and Node cannot offer psk_ke alone: ECDHE still runs.
      expect(store.resumedWithoutKeyExchange).toBe(version === 'TLSv1.2' ? 1 : 0);
    });
  }

  it('without tls.resume every reconnect is a full handshake on both sides', async () => {
    const { port, seen } = await mqttTlsServer();
    const t = target(port, { ca: CA });
    for (let i = 0; i < 3; i++) expect((await once(t, 1)).failure).toBeNull();
    expect(seen.map((s) => s.resumed)).toEqual([false, false, false]);
    expect([t.tls!.sessions.fullHandshakes, t.tls!.sessions.resumedHandshakes, t.tls!.sessions.size]).toEqual([
      3, 0, 0,
    ]);
  });

  it('one SecureContext per setting, one per client certificate pair: device n presents pair n mod 4', async () => {
    const { port, seen } = await mqttTlsServer({ requestCert: true, rejectUnauthorized: true, ca: readFileSync(CA) });
    const mtls = target(port, { ca: CA, clientCert: `${TLS_DIR}clients/device-{id}.crt` });
    for (const id of [0, 1, 5, 6, 4]) expect((await once(mtls, id)).failure).toBeNull();
    expect(seen.map((s) => s.peerCn)).toEqual(['device-0', 'device-1', 'device-1', 'device-2', 'device-0']);
    // Node SecureContexts on the JavaScript path; the native core builds its own SSL_CTXs in C instead.
    expect(mtls.tls!.contexts.size).toBe(e === 'js' ? 3 : 0);
    const { port: plainPort } = await mqttTlsServer();
    const plain = target(plainPort, { ca: CA });
    for (const id of [0, 1, 2]) expect((await once(plain, id)).failure).toBeNull();
    expect(plain.tls!.contexts.size).toBe(e === 'js' ? 1 : 0);
  });

  it('the certificate is still verified: its names, its CA, and insecure only when asked', async () => {
    const { port } = await mqttTlsServer();
    expect((await once(target(port, { ca: CA, servername: 'not-this-host.example' }), 0)).failure).toMatchObject({
      origin: 'tls',
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
    expect((await once(target(port, { ca: `${TLS_DIR}other-ca.crt` }), 0)).failure).toMatchObject({
      origin: 'tls',
      phase: 'tlsHandshake',
    });
    expect((await once(target(port, { ca: `${TLS_DIR}other-ca.crt`, insecure: true }), 0)).failure).toBeNull();
    expect((await once(target(port, { ca: CA, servername: 'localhost' }), 0)).failure).toBeNull();
  });

  it('TLS 1.3 ClientHello: psk_ke is offered beside psk_dhe_ke only by fleets that resume', async () => {
    expect(await pskModesOffered({ ca: CA })).toEqual([1]);
    expect(await pskModesOffered({ ca: CA, resume: 0.5 })).toEqual([1, 0]);
  });
});

/** The psk_key_exchange_modes (extension 45) of the ClientHello herd sends; 1 = psk_dhe_ke, 0 = psk_ke. */
async function pskModesOffered(s: TlsSettings): Promise<number[]> {
  let hello = Buffer.alloc(0);
  let attempt: Promise<unknown> = Promise.resolve();
  const got = new Promise<Buffer>((resolve) => {
    const srv = net.createServer((sock) => {
      sock.on('data', (d) => {
        hello = Buffer.concat([hello, d]);
        if (hello.length >= 5 && hello.length >= 5 + hello.readUInt16BE(3)) {
          resolve(hello);
          sock.destroy();
        }
      });
      sock.on('error', () => {});
    });
    servers.push(srv);
    srv.listen(0, '127.0.0.1', () => {
      attempt = once(target((srv.address() as net.AddressInfo).port, s), 0);
    });
  });
  const record = await got;
  expect(await attempt).toMatchObject({ failure: { phase: 'tlsHandshake' } }); // the server hung up after the hello
  return [...extension(record, 45).subarray(1)];
}

/** One extension's body from a ClientHello record (RFC 8446 §4.1.2 layout). */
function extension(record: Buffer, type: number): Buffer {
  expect(record[0]).toBe(0x16); // handshake record
  expect(record[5]).toBe(0x01); // ClientHello
  let at = 9 + 2 + 32; // record header, handshake header, legacy_version, random
  at += 1 + (record[at] as number); // legacy_session_id
  at += 2 + record.readUInt16BE(at); // cipher_suites
  at += 1 + (record[at] as number); // legacy_compression_methods
  const end = at + 2 + record.readUInt16BE(at);
  for (at += 2; at < end;) {
    const t = record.readUInt16BE(at);
    const len = record.readUInt16BE(at + 2);
    if (t === type) return record.subarray(at + 4, at + 4 + len);
    at += 4 + len;
  }
  throw new Error(`no extension ${type} in the ClientHello`);
}
