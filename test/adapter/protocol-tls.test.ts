/**
 * TLS options against Mosquitto's TLS listeners: CA file, wrong CA, insecure opt-in, SNI with a
 * host name (dns phase), version bounds, client certificates per device (mTLS), and session
 * resumption share with full vs resumed handshakes counted. What the handshakes cost is measured by
 * bench/tls.js, not here.
 * Run on the JavaScript path and on the native core (when built), which carries mqtts:// to an IP or a
 * host name.
 */
import { lookup } from 'node:dns/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Device, PreparedTarget } from '../../src/protocols/device.js';
import { DEVICE_KIND_ROWS, prepareTarget } from '../../src/protocols/kinds.js';
import { buildConnect } from '../../src/protocols/mqtt/connect-packet.js';
import { MqttConnection } from '../../src/protocols/mqtt/connection.js';
import { closeNativeCore } from '../../src/protocols/native/core.js';
import type { TlsSettings } from '../../src/protocols/transports/tls-options.js';
import { externalProgram } from '../helpers/external.js';
import { startMosquittoListeners, type MosquittoMulti } from '../helpers/mosquitto.js';
import { engines } from '../helpers/native.js';
import { RecordingOwner } from './protocol-owner.js';

const TLS_DIR = new URL('../../fixtures/tls/', import.meta.url).pathname;
const CA = `${TLS_DIR}ca.crt`;
const mosquitto = externalProgram('mosquitto');

let engine: 'js' | 'native' = 'js';
/** One owner per test, as one engine runner owns a run: the native core (and its TLS sessions) is the owner's. */
let owner = new RecordingOwner();
afterEach(() => {
  closeNativeCore(owner);
  owner = new RecordingOwner();
});

function attempt(t: PreparedTarget, deviceId: number): Device {
  return DEVICE_KIND_ROWS.mqtt.open(
    t,
    {
      engine,
      deviceId,
      localAddress: undefined,
      connectTimeoutMs: 5_000,
      maxPacketBytes: 64 * 1024,
      connectPacket: buildConnect({
        clientId: `herd-tls-${process.pid}-${deviceId}-${Math.random()}`,
        username: null,
        password: null,
        keepaliveS: 30,
        clean: true,
        protocolVersion: 4,
      }),
    },
    owner,
  );
}

interface Once {
  c: Device;
  failure: unknown;
  /** Read when the attempt ended: a native slot's device is reused by its next attempt. */
  resumed: boolean | null;
  tlsUs: number | undefined;
}

/** Connects, then ends cleanly; returns the device, its outcome and its TLS handshake. */
async function once(t: PreparedTarget, deviceId: number): Promise<Once> {
  owner.events.length = 0; // this attempt's outcome only
  const c = attempt(t, deviceId);
  const r = await owner.outcome(deviceId);
  const got = { c, failure: r.failure ?? null, resumed: c.tlsResumed, tlsUs: c.phaseTimes().tlsHandshakeUs };
  if (r.kind === 'connected') {
    c.end();
    await owner.waitKind('closed', deviceId);
  } else await owner.waitFor(() => c.state === 'closed');
  return got;
}

describe.skipIf(!mosquitto).each(engines())('TLS against Mosquitto (%s)', (e) => {
  let m: MosquittoMulti;
  const url = (name: string, host = '127.0.0.1'): string => `mqtts://${host}:${m.ports[name]}`;
  const target = (name: string, s: TlsSettings, host?: string): PreparedTarget =>
    prepareTarget('mqtt', url(name, host), s);

  beforeAll(async () => {
    const files = { cafile: CA, certfile: `${TLS_DIR}server.crt`, keyfile: `${TLS_DIR}server.key` };
    m = await startMosquittoListeners(mosquitto as string, [
      { name: 'tls', protocol: 'mqtt', tls: files },
      { name: 'mtls', protocol: 'mqtt', tls: { ...files, requireCertificate: true } },
    ]);
  });
  afterAll(async () => m?.stop());
  beforeAll(() => {
    engine = e;
  });

  it('runs on the engine it names', async () => {
    const { c, failure } = await once(target('tls', { ca: CA }), 0);
    expect(failure).toBeNull();
    expect(c instanceof MqttConnection).toBe(e === 'js');
  });

  it('verifies the server against a CA file and times the handshake', async () => {
    const { failure, tlsUs, resumed } = await once(target('tls', { ca: CA }), 0);
    expect(failure).toBeNull();
    expect(tlsUs).toBeGreaterThan(0);
    expect(resumed).toBe(false);
  });

  it('a server certificate from an untrusted CA is a tls failure in tlsHandshake', async () => {
    const { failure } = await once(target('tls', { ca: `${TLS_DIR}other-ca.crt` }), 0);
    expect(failure).toMatchObject({ origin: 'tls', phase: 'tlsHandshake' });
  });

  it('insecure: true accepts that certificate (opt-in only)', async () => {
    const { failure } = await once(target('tls', { ca: `${TLS_DIR}other-ca.crt`, insecure: true }), 0);
    expect(failure).toBeNull();
  });

  it('a host name gives a dns phase and is sent as SNI and checked against the certificate', async () => {
    const resolved = await lookup('localhost').catch(() => null);
    if (resolved?.address !== '127.0.0.1') return; // this host's "localhost" is not 127.0.0.1: nothing to test on loopback
    const { c, failure } = await once(target('tls', { ca: CA }, 'localhost'), 0);
    expect(failure).toBeNull();
    expect(c instanceof MqttConnection).toBe(e === 'js');
    const named = c as Device & { dnsDoneUs: number };
    expect(named.phaseTimes().dnsUs).toBeGreaterThanOrEqual(0);
    expect(named.dnsDoneUs).toBeLessThanOrEqual(named.tcpConnectedUs);
  });

  it('a wrong servername fails the identity check', async () => {
    const { failure } = await once(target('tls', { ca: CA, servername: 'not-this-host.example' }), 0);
    expect(failure).toMatchObject({ origin: 'tls', code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });

  it('version bounds are applied (TLSv1.2 only) and ALPN is offered', async () => {
    const { failure, resumed } = await once(
      target('tls', { ca: CA, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', alpn: ['mqtt'] }),
      0,
    );
    expect(failure).toBeNull();
    expect(resumed).toBe(false);
  });

  it('mTLS: each device presents its own certificate from a template; none is refused', async () => {
    const t = target('mtls', { ca: CA, clientCert: `${TLS_DIR}clients/device-{id}.crt` });
    expect(t.tls?.clientCerts.map((p) => p.name)).toEqual(['device-0', 'device-1', 'device-2', 'device-3']);
    for (const id of [0, 1, 5]) expect((await once(t, id)).failure).toBeNull();
    // TLS 1.2, where the server asks for the certificate inside the handshake: the refusal is always
    // its alert there (under 1.3 the client's handshake can end first, and the refusal race a reset).
    const bare = await once(target('mtls', { ca: CA, maxVersion: 'TLSv1.2' }), 0);
    expect(bare.failure).toMatchObject({ origin: 'tls', phase: 'tlsHandshake' });
  });

  it('resume: 0.8 offers a cached session on exactly 8 of 10 reconnects; full vs resumed are counted', async () => {
    for (const maxVersion of ['TLSv1.2', 'TLSv1.3'] as const) {
      const t = target('tls', { ca: CA, resume: 0.8, maxVersion });
      const store = t.tls!.sessions;
      for (let i = 0; i < 11; i++) expect((await once(t, 7)).failure).toBeNull();
      expect(store.offeredCount).toBe(8);
      expect(store.fullHandshakes + store.resumedHandshakes).toBe(11);
      expect(store.resumedHandshakes).toBe(8);
    }
  });
});
