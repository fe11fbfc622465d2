/**
 * One TLS attempt on the JavaScript transports (mqtts://, wss://), against node:tls / https servers
 * on loopback port 0: the TCP handshake is stamped when the socket connects, before Node builds and
 * sends the ClientHello (that work is the TLS handshake's); and the session an attempt offers is
 * decided once by the store's share rule, so a redial from the next source port (the first one was
 * held by a listener of this test's own) offers the same session and counts once.
 */
import { readFileSync } from 'node:fs';
import * as https from 'node:https';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { PreparedTarget } from '../../src/protocols/device.js';
import { prepareTarget } from '../../src/protocols/kinds.js';
import { TRANSPORTS } from '../../src/protocols/registry.js';
import type { Link } from '../../src/protocols/transports/link.js';
import { SourcePorts, useSourcePorts } from '../../src/protocols/transports/source-ports.js';
import { Handler, heldPortWithFreeNeighbours, listenEach } from '../helpers/links.js';

const TLS_DIR = new URL('../../fixtures/tls/', import.meta.url).pathname;
const SERVER = {
  cert: readFileSync(`${TLS_DIR}server.crt`),
  key: readFileSync(`${TLS_DIR}server.key`),
  maxVersion: 'TLSv1.2' as const,
};
const SCHEMES = [
  ['mqtts', '127.0.0.47'],
  ['wss', '127.0.0.48'],
] as const;
type Scheme = (typeof SCHEMES)[number][0];

let closeAll: () => Promise<void> = async () => {};
const ports = {} as Record<Scheme, number>;
/** Per scheme, whether each accepted TLS session resumed, as the server saw it. */
const serverSaw: Record<Scheme, boolean[]> = { mqtts: [], wss: [] };
const waiters: (() => void)[] = [];
/** Resolves once the `scheme` server has seen `n` handshakes end (its side may end after the client's). */
async function serverSawN(scheme: Scheme, n: number): Promise<boolean[]> {
  while (serverSaw[scheme].length < n) await new Promise<void>((r) => waiters.push(r));
  return serverSaw[scheme];
}

beforeAll(async () => {
  const mqtts = tls.createServer(SERVER);
  const wss = https.createServer(SERVER);
  new WebSocketServer({ server: wss }).on('connection', (ws) => ws.on('error', () => {}));
  const each = await listenEach(
    [
      ['mqtts', mqtts],
      ['wss', wss],
    ],
    'secureConnection',
    (scheme, s) => {
      serverSaw[scheme].push((s as tls.TLSSocket).isSessionReused());
      for (const w of waiters.splice(0)) w();
    },
  );
  Object.assign(ports, each.ports);
  closeAll = each.close;
});

afterAll(() => closeAll());

afterEach(() => useSourcePorts(null));

describe.each(SCHEMES)('%s', (scheme, source) => {
  // The servers' ports are known once the file's beforeAll ran.
  let target: PreparedTarget;
  beforeAll(() => {
    target = prepareTarget('mqtt', `${scheme}://127.0.0.1:${ports[scheme]}/mqtt`, {
      ca: `${TLS_DIR}ca.crt`,
      maxVersion: 'TLSv1.2',
      resume: 0.5,
    });
  });
  const open = (h: Handler, localAddress?: string): Link =>
    TRANSPORTS[scheme].open(
      { address: '127.0.0.1', port: ports[scheme], hostname: '127.0.0.1', path: '/mqtt', localAddress },
      { tls: target.tls, deviceKey: 3, subprotocol: 'mqtt', maxMessageBytes: 1 << 20, headers: undefined },
      h,
    );
  const links: Link[] = [];
  afterAll(() => {
    for (const l of links) l.destroy();
  });

  it('stamps the TCP handshake before Node builds the ClientHello', async () => {
    const h = new Handler();
    const link = open(h) as Link & { socket: net.Socket };
    links.push(link);
    // Node's TLS socket starts its handshake (builds and writes the ClientHello) through this call.
    const handle = (link.socket as unknown as { _handle: { start: () => void } })._handle;
    const start = handle.start.bind(handle);
    handle.start = () => {
      h.push('clientHello');
      start();
    };
    await h.next('ready');
    expect(h.events.slice(0, 3)).toEqual(['tcp', 'clientHello', 'tls']);
    // That first full handshake leaves device 3 a session to offer.
    expect(target.tls?.sessions.size).toBe(1);
  });

  it('a redial past a held source port offers the session its attempt was given, counted once', async () => {
    const sessions = target.tls!.sessions;
    const { held, holder } = await heldPortWithFreeNeighbours(source);
    try {
      // The first port of the slice is held: the attempt redials from the second.
      useSourcePorts(new SourcePorts({ first: held, last: held + 1 }));
      const redialed = new Handler();
      links.push(open(redialed, source));
      await redialed.next('ready');
      // resume 0.5: the first reconnect with a session does not offer it, the second does.
      expect(redialed.resumed).toBe(false);
      expect(sessions.offeredCount).toBe(0);
      useSourcePorts(null);
      const next = new Handler();
      links.push(open(next));
      await next.next('ready');
      expect(next.resumed).toBe(true);
      expect(sessions.offeredCount).toBe(1);
      expect(await serverSawN(scheme, 3)).toEqual([false, false, true]);
    } finally {
      await new Promise((r) => holder.close(r));
    }
  });
});
