/**
 * The native core writes CONNECT with the connect when the socket is already connected as
 * connect() returns (loopback: the kernel finished the three-way handshake inside the call), and
 * leaves everything else to the readiness path as before — at the addon's own interface, against
 * real servers on loopback:
 * - a plain attempt keeps no CONNECT bytes once open() returns; one that TLS follows keeps them all;
 * - a refused connect still fails with ECONNREFUSED in tcpConnect (the check leaves the socket's
 *   error for SO_ERROR);
 * - a TLS start that fails inside useTls() reaches JavaScript on the loop's next turn, not at the
 *   connect timeout, with TCP connected and the TLS handshake as its phase.
 */
import { constants } from 'node:os';
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { buildConnect } from '../../src/protocols/mqtt/connect-packet.js';
import { loadNative, type NativeHandle } from '../../src/protocols/native/binding.js';
import { EV_FAILED, EV_READY, EV_TIMEOUT, EVENT_STRIDE, nativeFailure } from '../../src/protocols/native/codes.js';
import { nativeBuilt } from '../helpers/native.js';

const CONNACK_OK = Buffer.from([0x20, 0x02, 0x00, 0x00]);
/** Longer than any test here may take: an outcome that waits for it fails the test. */
const TIMEOUT_MS = 60_000;
const PLAIN = 8;
const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

interface Outcome {
  slot: number;
  kind: number;
  code: number;
  t1: number;
}

/** A core whose outcomes are collected, and a wait for one of a slot. */
function core(): { h: NativeHandle; outcome: (slot: number) => Promise<Outcome> } {
  const b = loadNative()!;
  const seen: Outcome[] = [];
  let wake = (): void => {};
  const h = b.create((ev: Float64Array, count: number) => {
    for (let i = 0; i < count; i++) {
      const k = i * EVENT_STRIDE;
      const [slot, kind, code, t1] = [ev[k], ev[k + 1], ev[k + 2], ev[k + 3]] as number[];
      seen.push({ slot: slot as number, kind: kind as number, code: code as number, t1: t1 as number });
    }
    wake();
  }, 4096);
  cleanups.push(() => b.close(h));
  const outcome = (slot: number): Promise<Outcome> =>
    new Promise((resolve) => {
      wake = () => {
        const o = seen.find((x) => x.slot === slot && [EV_READY, EV_FAILED, EV_TIMEOUT].includes(x.kind));
        if (o !== undefined) resolve(o);
      };
      wake();
    });
  return { h, outcome };
}

/** A loopback server that answers every CONNECT with CONNACK accepted. */
async function mqttServer(): Promise<number> {
  const srv = net.createServer((s) => {
    s.on('error', () => {});
    s.once('data', () => s.write(CONNACK_OK));
  });
  const sockets = new Set<net.Socket>();
  srv.on('connection', (s) => sockets.add(s));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    srv.close();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return (srv.address() as net.AddressInfo).port;
}

/** A loopback port nothing listens on: bound by a server that is closed again. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const connect = buildConnect({
  clientId: 'write-at-connect',
  username: null,
  password: null,
  keepaliveS: 30,
  clean: true,
  protocolVersion: 4,
});

describe.skipIf(!nativeBuilt())('CONNECT written with the connect', () => {
  it('a plain attempt holds no CONNECT bytes once open() returns; one TLS follows holds them all', async () => {
    const b = loadNative()!;
    const { h, outcome } = core();
    const port = await mqttServer();
    const held = (): number => (b.stats(h) as number[])[1] as number;
    expect(b.open(h, 0, '127.0.0.1', port, null, connect, 4, TIMEOUT_MS, true)).toBe(0);
    // Every later open fits in the records and deadlines the first one allocated: what it adds to
    // what the core holds is its unsent CONNECT, all of it or none.
    const added: number[] = [];
    for (let slot = 1; slot <= PLAIN; slot++) {
      const before = held();
      expect(b.open(h, slot, '127.0.0.1', port, null, connect, 4, TIMEOUT_MS, false)).toBe(0);
      added.push(held() - before);
    }
    expect(
      added.every((n) => n === 0 || n === connect.length),
      String(added),
    ).toBe(true);
    // The kernel finishes a loopback handshake inside connect() unless it left its softirq work to
    // ksoftirqd (a loaded machine's network); then that one attempt waits for writability. Never all.
    expect(added.filter((n) => n === 0).length, String(added)).toBeGreaterThan(0);
    const waiting = held();
    b.abort(h, 0);
    expect(waiting - held()).toBe(connect.length);
    for (let slot = 1; slot <= PLAIN; slot++) {
      const ok = await outcome(slot);
      expect(ok.kind).toBe(EV_READY);
      expect(Number.isNaN(ok.t1)).toBe(false);
    }
  });

  it('a refused connect still fails with ECONNREFUSED while TCP connects', async () => {
    const b = loadNative()!;
    const { h, outcome } = core();
    expect(b.open(h, 0, '127.0.0.1', await closedPort(), null, connect, 4, TIMEOUT_MS, false)).toBe(0);
    const o = await outcome(0);
    expect(o.kind).toBe(EV_FAILED);
    expect(o.code).toBe(constants.errno.ECONNREFUSED);
    expect(Number.isNaN(o.t1)).toBe(true);
    expect(nativeFailure(o.code, 'tcpConnect')).toMatchObject({ code: 'ECONNREFUSED', phase: 'tcpConnect' });
  });

  it('a TLS start that fails inside useTls() is reported on the next turn, with TCP connected', async () => {
    const b = loadNative()!;
    const { h, outcome } = core();
    expect(b.open(h, 0, '127.0.0.1', await mqttServer(), null, connect, 4, TIMEOUT_MS, true)).toBe(0);
    // No version at all between TLS 1.3 and TLS 1.2: OpenSSL fails before the ClientHello is written.
    const setting = b.tlsConfig(h, null, false, 0x304, 0x303, 'DEFAULT', null, null, 'x.invalid', [], [], 0, false);
    expect(b.useTls(h, 0, setting, false)).toBe(0);
    // The socket is closed already: only the core's idle handle can report it now. Without it the
    // outcome would wait for the connect deadline (TIMEOUT_MS), past this test's own timeout.
    const o = await outcome(0);
    expect(o.kind).toBe(EV_FAILED);
    expect(Number.isNaN(o.t1)).toBe(false);
  }, 15_000);
});
