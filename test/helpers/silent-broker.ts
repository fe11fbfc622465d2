/**
 * A loopback MQTT server that answers CONNECT and then never answers anything — in particular
 * never a PINGREQ — and keeps, per connection, when it connected, every PINGREQ it got and when
 * the client closed. What a broker that "still holds the TCP connection but is gone" looks like to
 * a device. Times are performance.now() milliseconds of the test process.
 */
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import * as mqtt from 'mqtt-packet';

export interface SilentConnection {
  clientId: string | null;
  keepaliveS: number | null;
  connackAtMs: number | null;
  pingreqAtMs: number[];
  closedAtMs: number | null;
}

export interface SilentBroker {
  port: number;
  url: string;
  connections: SilentConnection[];
  /** The socket of each connection, for tests that drive one client directly. */
  sockets: net.Socket[];
  close(): Promise<void>;
}

const CONNACK = mqtt.generate({ cmd: 'connack', returnCode: 0, sessionPresent: false });

export async function startSilentBroker(host = '127.0.0.1'): Promise<SilentBroker> {
  const connections: SilentConnection[] = [];
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    const conn: SilentConnection = {
      clientId: null,
      keepaliveS: null,
      connackAtMs: null,
      pingreqAtMs: [],
      closedAtMs: null,
    };
    connections.push(conn);
    sockets.push(socket);
    const parser = mqtt.parser({ protocolVersion: 4 });
    parser.on('packet', (p: mqtt.Packet) => {
      if (p.cmd === 'connect') {
        conn.clientId = p.clientId;
        conn.keepaliveS = p.keepalive ?? null;
        conn.connackAtMs = performance.now();
        socket.write(CONNACK);
      } else if (p.cmd === 'pingreq') {
        conn.pingreqAtMs.push(performance.now());
      }
    });
    parser.on('error', () => socket.destroy());
    socket.on('data', (chunk) => parser.parse(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      conn.closedAtMs = performance.now();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `mqtt://${host}:${port}`,
    connections,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
