/**
 * The native core's TLS handshake report, at the addon's own interface against a real TLS server
 * on loopback: a done handshake (EV_TLS) reaches JavaScript in the same batch as the attempt's next
 * outcome, right before it — not in a batch of its own one round trip before CONNACK — and an
 * attempt dropped before that outcome drops it too.
 */
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { buildConnect } from '../../src/protocols/mqtt/connect-packet.js';
import { loadNative, type NativeHandle } from '../../src/protocols/native/binding.js';
import { EV_FAILED, EV_READY, EV_TLS, EVENT_STRIDE, TLS_KEY_EXCHANGE } from '../../src/protocols/native/codes.js';
import { nativeBuilt } from '../helpers/native.js';

const TLS_DIR = new URL('../../fixtures/tls/', import.meta.url).pathname;
const built = nativeBuilt();
const CONNACK_OK = Buffer.from([0x20, 0x02, 0x00, 0x00]);
const CODE_CLOSED_BEFORE_CONNACK = 3001;
const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();
const handles: NativeHandle[] = [];

afterEach(async () => {
  const b = loadNative();
  for (const h of handles.splice(0)) b?.close(h);
  for (const s of sockets) s.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

/** A TLS server (the fixtures' certificate, TLS 1.2) that runs `behave` on the client's first bytes (CONNECT). */
async function tlsServer(behave: (s: tls.TLSSocket) => void): Promise<number> {
  const srv = tls.createServer(
    {
      key: readFileSync(`${TLS_DIR}server.key`),
      cert: readFileSync(`${TLS_DIR}server.crt`),
      maxVersion: 'TLSv1.2',
    },
    (s) => {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
      s.once('data', () => behave(s));
    },
  );
  srv.on('tlsClientError', () => {});
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return (srv.address() as net.AddressInfo).port;
}

/** One core with one TLS attempt on slot 0 to `port`; every batch it delivers, as [kind, code] pairs. */
function attempt(port: number): { batches: number[][][]; h: NativeHandle } {
  const b = loadNative()!;
  const batches: number[][][] = [];
  const h = b.create((ev: Float64Array, count: number) => {
    const batch: number[][] = [];
    for (let k = 0; k < count * EVENT_STRIDE; k += EVENT_STRIDE) batch.push([ev[k + 1]!, ev[k + 2]!]);
    batches.push(batch);
  }, 4096);
  handles.push(h);
  const connect = buildConnect({
    clientId: 'tls-batch',
    username: null,
    password: null,
    keepaliveS: 30,
    clean: true,
    protocolVersion: 4,
  });
  expect(b.open(h, 0, '127.0.0.1', port, null, connect, 4, 10_000, true)).toBe(0);
  const ca = readFileSync(`${TLS_DIR}ca.crt`);
  const setting = b.tlsConfig(
    h,
    ca,
    true,
    0x303,
    0x303,
    tls.DEFAULT_CIPHERS,
    null,
    null,
    '127.0.0.1',
    [],
    [],
    0,
    false,
  );
  expect(b.useTls(h, 0, setting, false)).toBe(0);
  return { batches, h };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 5_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

describe.skipIf(!built)('native TLS handshake report', () => {
  it('EV_TLS comes in the CONNACK batch, right before EV_READY, and in no batch of its own', async () => {
    const { batches } = attempt(await tlsServer((s) => s.write(CONNACK_OK)));
    await until(() => batches.length > 0, 'the first batch');
    // A full TLS 1.2 handshake with an ephemeral key exchange, then CONNACK (session present 0).
    expect(batches).toEqual([
      [
        [EV_TLS, TLS_KEY_EXCHANGE],
        [EV_READY, 0],
      ],
    ]);
  });

  it('a close after TLS and before CONNACK: EV_TLS, then EV_FAILED, in one batch', async () => {
    const { batches } = attempt(await tlsServer((s) => s.end()));
    await until(() => batches.length > 0, 'the first batch');
    expect(batches).toEqual([
      [
        [EV_TLS, TLS_KEY_EXCHANGE],
        [EV_FAILED, CODE_CLOSED_BEFORE_CONNACK],
      ],
    ]);
  });

  it('an attempt dropped after TLS and before CONNACK reports nothing; its handshake is taken once', async () => {
    let got = false;
    const { batches, h } = attempt(
      await tlsServer(() => {
        got = true; // CONNECT arrived: the client finished its handshake; no CONNACK ever comes
      }),
    );
    await until(() => got, 'CONNECT at the server');
    const b = loadNative()!;
    expect(b.tlsTakeDone(h, 0)).toBe(TLS_KEY_EXCHANGE);
    expect(b.tlsTakeDone(h, 0)).toBe(-1);
    b.abort(h, 0);
    expect(b.stats(h)[0]).toBe(0);
    expect(batches).toEqual([]);
  });
});
