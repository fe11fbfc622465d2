/**
 * Misbehaving WebSocket servers: HTTP refusals (429/503 = load shedding), a bad handshake, silence
 * during the upgrade, a server close 1013, an oversized message — each one classified failure.
 */
import * as http from 'node:http';
import type * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { isLoadShedding } from '../../src/protocols/classify.js';
import type { PreparedTarget } from '../../src/protocols/device.js';
import { DEVICE_KIND_ROWS, prepareTarget } from '../../src/protocols/kinds.js';
import { buildConnect } from '../../src/protocols/mqtt/connect-packet.js';
import { RecordingOwner } from './protocol-owner.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function serve(server: http.Server): Promise<number> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return (server.address() as net.AddressInfo).port;
}

/** A server answering every upgrade with `status`. */
async function refusing(status: number): Promise<number> {
  const server = http.createServer();
  server.on('upgrade', (_req, socket: net.Socket) => {
    socket.end(`HTTP/1.1 ${status} Nope\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
  });
  return serve(server);
}

let nextId = 0;
function device(
  url: string,
  owner: RecordingOwner,
  kind: 'websocket' | 'mqtt' = 'websocket',
  connectTimeoutMs = 3_000,
) {
  const t: PreparedTarget = prepareTarget(kind, url);
  return DEVICE_KIND_ROWS[kind].open(
    t,
    {
      deviceId: nextId++,
      localAddress: undefined,
      connectTimeoutMs,
      maxPacketBytes: 1024,
      connectPacket: buildConnect({
        clientId: `ws-hostile-${nextId}`,
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

describe('hostile WebSocket servers', () => {
  it.each([429, 503, 401])('HTTP %i on the upgrade is WS_HTTP_<status> in wsUpgrade', async (status) => {
    for (const kind of ['websocket', 'mqtt'] as const) {
      const owner = new RecordingOwner();
      const d = device(`ws://127.0.0.1:${await refusing(status)}/`, owner, kind);
      const r = await owner.outcome(d.deviceId);
      expect(r.failure).toEqual({ origin: 'protocol', phase: 'wsUpgrade', code: `WS_HTTP_${status}` });
      expect(isLoadShedding(r.failure!)).toBe(status !== 401);
      await owner.waitFor(() => d.state === 'closed');
    }
  });

  it('a 101 with a wrong Sec-WebSocket-Accept is a protocol failure in wsUpgrade', async () => {
    const server = http.createServer();
    server.on('upgrade', (_req, socket: net.Socket) => {
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: bm9wZQ==\r\n\r\n',
      );
    });
    const owner = new RecordingOwner();
    const d = device(`ws://127.0.0.1:${await serve(server)}/`, owner);
    const r = await owner.outcome(d.deviceId);
    expect(r.failure).toEqual({ origin: 'protocol', phase: 'wsUpgrade', code: 'WS_HANDSHAKE_INVALID' });
  });

  it('silence after the request times out in wsUpgrade', async () => {
    const server = http.createServer();
    server.on('upgrade', () => {});
    const owner = new RecordingOwner();
    const d = device(`ws://127.0.0.1:${await serve(server)}/`, owner, 'websocket', 300);
    const r = await owner.outcome(d.deviceId);
    expect(r.failure).toEqual({ origin: 'timeout', phase: 'wsUpgrade', code: 'CONNECT_TIMEOUT' });
  });

  it('garbage instead of an HTTP answer is a protocol failure', async () => {
    const server = http.createServer();
    server.on('upgrade', (_req, socket: net.Socket) => socket.write(Buffer.alloc(64, 0xff)));
    const owner = new RecordingOwner();
    const d = device(`ws://127.0.0.1:${await serve(server)}/`, owner);
    const r = await owner.outcome(d.deviceId);
    expect(r.failure?.origin).toBe('protocol');
    expect(r.failure?.phase).toBe('wsUpgrade');
  });

  it('a server close 1013 on a held device is WS_CLOSE_1013 (load shedding); an oversized message is refused', async () => {
    const server = http.createServer();
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws, req) => {
      if (req.url === '/shed') setTimeout(() => ws.close(1013, 'try again later'), 20);
      else ws.send(Buffer.alloc(64 * 1024));
    });
    const port = await serve(server);
    cleanups.push(async () => wss.close());
    const owner = new RecordingOwner();
    const shed = device(`ws://127.0.0.1:${port}/shed`, owner);
    const [lost] = await owner.waitKind('lost', shed.deviceId);
    expect(lost?.failure).toEqual({ origin: 'protocol', phase: 'held', code: 'WS_CLOSE_1013' });
    expect(isLoadShedding(lost!.failure!)).toBe(true);
    const big = device(`ws://127.0.0.1:${port}/big`, owner);
    const [lostBig] = await owner.waitKind('lost', big.deviceId);
    expect(lostBig?.failure).toEqual({ origin: 'protocol', phase: 'held', code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' });
    expect(owner.of('message', big.deviceId)).toEqual([]);
  });
});
