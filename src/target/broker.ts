/**
 * The embedded reference target: an aedes MQTT broker on loopback TCP. It runs in its own process
 * (target/main.ts) so it never shares an event loop with the harness (MEASUREMENT.md rule 12).
 */
import * as net from 'node:net';
import { Aedes } from 'aedes';

export interface BrokerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Listen backlog; the kernel caps it at net.core.somaxconn. */
  backlog: number;
}

export interface RunningBroker {
  url: string;
  host: string;
  port: number;
  stats(): { connections: number; accepted: number };
  close(): Promise<void>;
}

export const DEFAULT_BROKER: BrokerOptions = { host: '127.0.0.1', port: 0, backlog: 4096 };

export async function startBroker(o: BrokerOptions = DEFAULT_BROKER): Promise<RunningBroker> {
  const aedes = await Aedes.createBroker();
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // A misbehaving client must not crash the target either.
    socket.on('error', () => {});
    aedes.handle(socket);
  });
  aedes.on('clientError', () => {});
  aedes.on('connectionError', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: o.host, port: o.port, backlog: o.backlog }, () => resolve());
  });
  const addr = server.address() as net.AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `mqtt://${host}:${addr.port}`,
    host: addr.address,
    port: addr.port,
    stats: () => ({ connections: sockets.size, accepted }),
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    },
  };
}
