/**
 * Explicit source ports on the JavaScript transports (mqtt://, mqtts://, ws://, wss://): with a
 * worker's slice installed, each connection comes from the next planned port of its source address,
 * a port another socket holds (a listener this test opens itself) moves the attempt to the next
 * one before anything reaches the target, and an attempt that finds no port fails with ESOURCEPORTS.
 */
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { prepareTarget } from '../../src/protocols/kinds.js';
import { TRANSPORTS, type TransportScheme } from '../../src/protocols/registry.js';
import type { Link } from '../../src/protocols/transports/link.js';
import { SourcePorts, useSourcePorts } from '../../src/protocols/transports/source-ports.js';
import { Handler, heldPortWithFreeNeighbours, listenEach } from '../helpers/links.js';

const TLS_DIR = new URL('../../fixtures/tls/', import.meta.url).pathname;
const SERVER = { cert: readFileSync(`${TLS_DIR}server.crt`), key: readFileSync(`${TLS_DIR}server.key`) };
const SCHEMES: TransportScheme[] = ['mqtt', 'mqtts', 'ws', 'wss'];

const seen: string[] = [];
let closeAll: () => Promise<void> = async () => {};
const ports = {} as Record<TransportScheme, number>;
const accepted: net.Socket[] = [];

beforeAll(async () => {
  const web = http.createServer();
  const webs = https.createServer(SERVER);
  for (const srv of [web, webs])
    new WebSocketServer({ server: srv }).on('connection', (ws) => ws.on('error', () => {}));
  const made: [TransportScheme, net.Server][] = [
    ['mqtt', net.createServer()],
    ['mqtts', tls.createServer(SERVER)],
    ['ws', web],
    ['wss', webs],
  ];
  const each = await listenEach(made, 'connection', (_scheme, s) => {
    seen.push(`${s.remoteAddress}:${s.remotePort}`);
    accepted.push(s);
  });
  Object.assign(ports, each.ports);
  closeAll = each.close;
});

afterAll(() => closeAll());

afterEach(() => useSourcePorts(null));

describe.each(SCHEMES.map((s, i) => [s, `127.0.0.${41 + i}`] as const))('%s from %s', (scheme, source) => {
  it('connects from the planned ports, moves past a held port, fails with ESOURCEPORTS, reuses a freed port', async () => {
    const { held, holder } = await heldPortWithFreeNeighbours(source);
    useSourcePorts(new SourcePorts({ first: held - 1, last: held + 1 }));
    const secure = scheme === 'mqtts' || scheme === 'wss';
    const target = prepareTarget(
      'mqtt',
      `${scheme}://127.0.0.1:${ports[scheme]}/mqtt`,
      secure ? { ca: `${TLS_DIR}ca.crt` } : undefined,
    );
    const open = (h: Handler): Link =>
      TRANSPORTS[scheme].open(
        { address: '127.0.0.1', port: ports[scheme], hostname: '127.0.0.1', path: '/mqtt', localAddress: source },
        { tls: target.tls, deviceKey: 0, subprotocol: 'mqtt', maxMessageBytes: 1 << 20, headers: undefined },
        h,
      );
    const links: Link[] = [];
    try {
      const first = new Handler();
      links.push(open(first));
      await first.next('ready');
      const second = new Handler();
      links.push(open(second));
      await second.next('ready');
      expect(first.events).toEqual(
        secure
          ? ['tcp', 'tls', ...(scheme === 'wss' ? ['ws'] : []), 'ready']
          : scheme === 'ws'
            ? ['tcp', 'ws', 'ready']
            : ['tcp', 'ready'],
      );
      expect(second.events).toEqual(first.events);
      const mine = seen.filter((a) => a.startsWith(`${source}:`));
      // The held port was tried by the second attempt and skipped; the target never saw it.
      expect(mine).toEqual([`${source}:${held - 1}`, `${source}:${held + 1}`]);

      // Both free ports are held by live connections, the third keeps meeting the listener's port.
      const third = new Handler();
      links.push(open(third));
      await third.next('close');
      expect(third.events).toEqual(['error', 'close']);
      expect((third.error as { code?: string }).code).toBe('ESOURCEPORTS');
      expect((third.error as Error).message).toContain(`source address ${source}: 8 ports in a row`);
      expect(seen.filter((a) => a.startsWith(`${source}:`))).toHaveLength(2);

      // A closed connection gives its port back: the next attempt comes from it. The target closes
      // first, so the port is not left in TIME_WAIT on this side (that would fail the reuse with
      // EADDRNOTAVAIL and move on again).
      const theirs = accepted.find((a) => `${a.remoteAddress}:${a.remotePort}` === `${source}:${held - 1}`);
      theirs?.destroy();
      await first.next('close');
      const fourth = new Handler();
      links.push(open(fourth));
      await fourth.next('ready');
      expect(seen.filter((a) => a.startsWith(`${source}:`))).toEqual([
        `${source}:${held - 1}`,
        `${source}:${held + 1}`,
        `${source}:${held - 1}`,
      ]);
    } finally {
      for (const l of links) l.destroy();
      await new Promise((r) => holder.close(r));
    }
  });
});
