/**
 * Misbehaving TLS servers on loopback, on the JavaScript path and on the native core (when built):
 * garbage instead of a ServerHello, a close or a reset mid-handshake, a stall, a fatal alert, an
 * untrusted or misnamed certificate, and hostile MQTT once TLS is up. Both engines must end the
 * attempt with the same classified failure (the codes below are Node's own names for these
 * events), and the native core must hold no connection afterwards.
 */
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Device, PreparedTarget } from '../../src/protocols/device.js';
import type { MqttConnection } from '../../src/protocols/mqtt/connection.js';
import { NativeDevice } from '../../src/protocols/native/device.js';
import { DEVICE_KIND_ROWS, prepareTarget } from '../../src/protocols/kinds.js';
import { buildConnect } from '../../src/protocols/mqtt/connect-packet.js';
import { closeNativeCore, nativeCoreStats } from '../../src/protocols/native/core.js';
import type { TlsSettings } from '../../src/protocols/transports/tls-options.js';
import { engines } from '../helpers/native.js';
import { RecordingOwner } from './protocol-owner.js';

const TLS_DIR = new URL('../../fixtures/tls/', import.meta.url).pathname;
const CA = `${TLS_DIR}ca.crt`;
const MAX_PACKET_BYTES = 4096;
const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();
let owner = new RecordingOwner();
let engine: 'js' | 'native' = 'js';
let nextId = 0;

afterEach(async () => {
  closeNativeCore(owner);
  owner = new RecordingOwner();
  for (const s of sockets) s.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

function track(s: net.Socket): void {
  sockets.add(s);
  s.on('error', () => {});
  s.on('close', () => sockets.delete(s));
}

async function listen(srv: net.Server): Promise<number> {
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return (srv.address() as net.AddressInfo).port;
}

/** A TCP server that runs `behave` once the client's first bytes (its ClientHello) arrive. */
function rawServer(behave: (s: net.Socket) => void): Promise<number> {
  return listen(
    net.createServer((s) => {
      track(s);
      s.once('data', () => behave(s));
    }),
  );
}

/** A TLS server (the fixtures' certificate) that runs `behave` on the client's first bytes (CONNECT). */
function tlsServer(behave: (s: tls.TLSSocket) => void): Promise<number> {
  const srv = tls.createServer(
    { key: readFileSync(`${TLS_DIR}server.key`), cert: readFileSync(`${TLS_DIR}server.crt`) },
    (s) => {
      track(s);
      s.once('data', () => behave(s));
    },
  );
  srv.on('tlsClientError', () => {});
  return listen(srv);
}

function connect(port: number, s: TlsSettings = { ca: CA }, connectTimeoutMs = 2_000): MqttConnection | NativeDevice {
  return connectTo(prepareTarget('mqtt', `mqtts://127.0.0.1:${port}`, s), nextId++, connectTimeoutMs);
}

function connectTo(t: PreparedTarget, id: number, connectTimeoutMs = 2_000): MqttConnection | NativeDevice {
  return DEVICE_KIND_ROWS.mqtt.open(
    t,
    {
      engine,
      deviceId: id,
      localAddress: undefined,
      connectTimeoutMs,
      maxPacketBytes: MAX_PACKET_BYTES,
      connectPacket: buildConnect({
        clientId: `hostile-tls-${id}`,
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

/** The attempt's failure, once the device is closed; on the native core, no connection is left. */
async function failure(c: Device): Promise<unknown> {
  const r = await owner.outcome(c.deviceId);
  await owner.waitFor(() => c.state === 'closed', 5_000, 'closed');
  if (engine === 'native') expect(nativeCoreStats(owner)[0]).toBe(0);
  return r.failure ?? null;
}

describe.each(engines())('hostile TLS servers (%s)', (e) => {
  beforeEach(() => {
    engine = e;
  });

  it('it runs on the engine it names', async () => {
    const c = connect(await tlsServer((s) => s.write(Buffer.from([0x20, 0x02, 0x00, 0x00]))));
    expect((await owner.outcome(c.deviceId)).kind).toBe('connected');
    expect(c instanceof NativeDevice).toBe(e === 'native');
    c.abort();
    await owner.waitKind('closed', c.deviceId);
  });

  it('garbage instead of a ServerHello is a tls failure', async () => {
    const c = connect(await rawServer((s) => s.write('HTTP/1.1 400 Bad Request\r\n\r\n' + 'x'.repeat(300))));
    expect(await failure(c)).toEqual({ origin: 'tls', phase: 'tlsHandshake', code: 'ERR_SSL_WRONG_VERSION_NUMBER' });
  });

  it('a close mid-handshake is a reset in tlsHandshake', async () => {
    const c = connect(await rawServer((s) => s.end()));
    expect(await failure(c)).toEqual({ origin: 'network', phase: 'tlsHandshake', code: 'ECONNRESET' });
  });

  it('a reset mid-handshake is a reset in tlsHandshake', async () => {
    const c = connect(await rawServer((s) => s.resetAndDestroy()));
    expect(await failure(c)).toEqual({ origin: 'network', phase: 'tlsHandshake', code: 'ECONNRESET' });
  });

  it('a server that stalls after the ClientHello times out in tlsHandshake', async () => {
    const c = connect(await rawServer(() => {}), { ca: CA }, 300);
    expect(await failure(c)).toEqual({ origin: 'timeout', phase: 'tlsHandshake', code: 'CONNECT_TIMEOUT' });
  });

  it('a fatal alert is a tls failure named after it', async () => {
    // Alert record: TLS 1.2, fatal (2), handshake_failure (40).
    const c = connect(await rawServer((s) => s.end(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]))));
    expect(await failure(c)).toEqual({
      origin: 'tls',
      phase: 'tlsHandshake',
      code: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
    });
  });

  it('a certificate from an untrusted CA, or without the name asked for, is refused', async () => {
    const port = await tlsServer(() => {});
    expect(await failure(connect(port, { ca: `${TLS_DIR}other-ca.crt` }))).toEqual({
      origin: 'tls',
      phase: 'tlsHandshake',
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
    expect(await failure(connect(port, { ca: CA, servername: 'not-this-host.example' }))).toEqual({
      origin: 'tls',
      phase: 'tlsHandshake',
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
  });

  it('a session from a server that failed the name check is never resumed into a connection', async () => {
    const port = await tlsServer(() => {});
    // TLS 1.2 hands the session over at the end of the handshake, before the checks run.
    const t: TlsSettings = { ca: CA, servername: 'not-this-host.example', resume: 1, maxVersion: 'TLSv1.2' };
    const target = prepareTarget('mqtt', `mqtts://127.0.0.1:${port}`, t);
    for (let i = 0; i < 2; i++) {
      owner.events.length = 0;
      const c = connectTo(target, 7);
      expect(await failure(c)).toEqual({ origin: 'tls', phase: 'tlsHandshake', code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    }
    expect(target.tls!.sessions.offeredCount).toBe(0);
  });

  it('an attempt that times out or is aborted after TLS and before CONNACK still counts its handshake', async () => {
    let connects = 0;
    const port = await tlsServer(() => {
      connects++; // CONNECT arrived, so the client's handshake is done; no CONNACK ever comes
    });
    const target = prepareTarget('mqtt', `mqtts://127.0.0.1:${port}`, { ca: CA, maxVersion: 'TLSv1.2' });
    // Long enough for the handshake to finish first on a busy machine (the phase must be mqttConnack).
    const late = connectTo(target, nextId++, 1_500);
    expect(await failure(late)).toEqual({ origin: 'timeout', phase: 'mqttConnack', code: 'CONNECT_TIMEOUT' });
    const aborted = connectTo(target, nextId++);
    await owner.waitFor(() => connects === 2, 5_000, 'the second CONNECT');
    aborted.abort();
    await owner.waitFor(() => aborted.state === 'closed', 5_000, 'closed');
    expect([target.tls!.sessions.fullHandshakes, target.tls!.sessions.resumedHandshakes]).toEqual([2, 0]);
    if (e === 'native') expect(nativeCoreStats(owner)[0]).toBe(0);
  });

  it('garbage instead of CONNACK once TLS is up is a protocol failure', async () => {
    const c = connect(
      await tlsServer((s) => s.write('HTTP/1.1 400 Bad Request\r\n\r\n' + '<html>nope</html>'.repeat(10))),
    );
    expect(await failure(c)).toEqual({ origin: 'protocol', phase: 'mqttConnack', code: 'MQTT_UNEXPECTED_PACKET' });
  });

  it('an oversized CONNACK over TLS is refused before any of it is buffered', async () => {
    const c = connect(await tlsServer((s) => s.write(Buffer.from([0x20, 0xff, 0xff, 0xff, 0x7f]))));
    expect(await failure(c)).toEqual({ origin: 'protocol', phase: 'mqttConnack', code: 'MQTT_PACKET_TOO_LARGE' });
    expect(c.bufferedBytes).toBe(0);
  });

  it('a close after TLS and before CONNACK is CLOSED_BEFORE_CONNACK', async () => {
    const c = connect(await tlsServer((s) => s.end()));
    expect(await failure(c)).toEqual({ origin: 'network', phase: 'mqttConnack', code: 'CLOSED_BEFORE_CONNACK' });
  });

  it('CONNACK then a close over TLS: connected, then lost as PEER_CLOSED', async () => {
    const c = connect(await tlsServer((s) => s.end(Buffer.from([0x20, 0x02, 0x00, 0x00]))));
    expect((await owner.outcome(c.deviceId)).kind).toBe('connected');
    const [lost] = await owner.waitKind('lost', c.deviceId);
    expect(lost?.failure).toEqual({ origin: 'network', phase: 'held', code: 'PEER_CLOSED' });
    if (e === 'native') expect(nativeCoreStats(owner)[0]).toBe(0);
  });
});
