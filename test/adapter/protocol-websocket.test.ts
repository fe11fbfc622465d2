/**
 * Plain WebSocket devices (no MQTT) against a `ws` server on loopback, over ws:// and wss://:
 * upgrade with phase timings, hello frame, ping/pong keepalive, echo round trip, clean close.
 */
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { PreparedTarget } from '../../src/protocols/device.js';
import { prepareTarget } from '../../src/protocols/kinds.js';
import { openWebSocket } from '../../src/protocols/ws/kind.js';
import type { WsDevice } from '../../src/protocols/ws/device.js';
import { RecordingOwner } from './protocol-owner.js';

const TLS_DIR = new URL('../../fixtures/tls/', import.meta.url).pathname;
const tlsServer = { cert: readFileSync(`${TLS_DIR}server.crt`), key: readFileSync(`${TLS_DIR}server.key`) };

interface EchoServer {
  port: number;
  hellos: string[];
  paths: string[];
  close(): Promise<void>;
}

async function echoServer(secure: boolean): Promise<EchoServer> {
  const server = secure ? https.createServer(tlsServer) : http.createServer();
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const wss = new WebSocketServer({ server });
  const hellos: string[] = [];
  const paths: string[] = [];
  wss.on('connection', (ws, req) => {
    paths.push(req.url ?? '');
    let first = true;
    ws.on('message', (data, isBinary) => {
      if (first) hellos.push(data.toString());
      first = false;
      ws.send(data, { binary: isBinary });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    hellos,
    paths,
    close: async () => {
      for (const s of sockets) s.destroy();
      wss.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

let nextId = 0;
function open(t: PreparedTarget, owner: RecordingOwner, hello?: string): WsDevice {
  return openWebSocket(
    t,
    {
      deviceId: nextId++,
      localAddress: undefined,
      connectTimeoutMs: 5_000,
      maxPacketBytes: 64 * 1024,
      ...(hello !== undefined ? { hello } : {}),
    },
    owner,
  );
}

describe.each([false, true])('plain WebSocket device (secure: %s)', (secure) => {
  let srv: EchoServer;
  let target: PreparedTarget;
  beforeAll(async () => {
    srv = await echoServer(secure);
    target = prepareTarget(
      'websocket',
      `${secure ? 'wss' : 'ws'}://127.0.0.1:${srv.port}/devices?v=1`,
      secure ? { ca: `${TLS_DIR}ca.crt` } : undefined,
    );
  });
  afterAll(async () => srv?.close());

  it('upgrades with ordered phase timings, sends its hello, and echoes', async () => {
    const owner = new RecordingOwner();
    const d = open(target, owner, 'hello from device');
    expect((await owner.outcome(d.deviceId)).kind).toBe('connected');
    const p = d.phaseTimes();
    expect(p.tlsHandshakeUs === undefined).toBe(!secure);
    expect(p.wsUpgradeUs).toBeGreaterThanOrEqual(0);
    expect('mqttConnackUs' in p).toBe(false);
    expect(d.wsUpgradedUs).toBeGreaterThanOrEqual(secure ? d.tlsDoneUs : d.tcpConnectedUs);
    const [echo] = await owner.waitKind('message', d.deviceId);
    expect(echo?.data?.toString()).toBe('hello from device');
    expect(srv.paths.at(-1)).toBe('/devices?v=1');
    expect(d.send(Buffer.from([1, 2, 3]))).toBe(true);
    const msgs = await owner.waitKind('message', d.deviceId, 2);
    expect([...(msgs[1]?.data ?? [])]).toEqual([1, 2, 3]);
    d.end();
    await owner.waitKind('closed', d.deviceId);
  });

  it('keeps alive with ping/pong', async () => {
    const owner = new RecordingOwner();
    const d = open(target, owner);
    await owner.outcome(d.deviceId);
    d.ping();
    expect(Number.isNaN(d.pingSentUs)).toBe(false);
    await owner.waitFor(() => Number.isNaN(d.pingSentUs), 5_000, 'pong');
    d.end();
    await owner.waitKind('closed', d.deviceId);
    expect(owner.of('lost')).toEqual([]);
  });
});
