/**
 * Transport-link test helpers: a LinkHandler that records what a link reports, and loopback ports
 * held by listeners of the test's own (for source-port redials).
 */
import * as net from 'node:net';
import type { LinkHandler } from '../../src/protocols/transports/link.js';

/** Records what a link reports; `next(kind)` resolves at that event. */
export class Handler implements LinkHandler {
  readonly events: string[] = [];
  error: unknown = null;
  private waiters: { kind: string; resolve: () => void }[] = [];
  push(kind: string): void {
    this.events.push(kind);
    for (const w of this.waiters.filter((x) => x.kind === kind)) w.resolve();
  }
  next(kind: string): Promise<void> {
    if (this.events.includes(kind)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ kind, resolve }));
  }
  linkTcpConnected(): void {
    this.push('tcp');
  }
  /** What the TLS handshake reported: whether it resumed a session (null before it ended). */
  resumed: boolean | null = null;
  linkTlsDone(resumed: boolean): void {
    this.resumed = resumed;
    this.push('tls');
  }
  linkWsUpgraded(): void {
    this.push('ws');
  }
  linkReady(): void {
    this.push('ready');
  }
  linkData(): void {}
  linkPong(): void {}
  linkError(err: unknown): void {
    this.error = err;
    this.push('error');
  }
  linkClose(): void {
    this.push('close');
  }
}

export async function listen(server: net.Server, host = '127.0.0.1', port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return (server.address() as net.AddressInfo).port;
}

/**
 * A port the kernel gives a listener of our own on `address` (held until closed), with the ports
 * either side free: the slice under test is [held − 1, held + 1]. Bounded: 20 tries.
 */
export async function heldPortWithFreeNeighbours(address: string): Promise<{ held: number; holder: net.Server }> {
  for (let i = 0; i < 20; i++) {
    const holder = net.createServer();
    const held = await listen(holder, address);
    const free = await Promise.all([held - 1, held + 1].map((p) => bindable(address, p)));
    if (free.every(Boolean)) return { held, holder };
    await new Promise((r) => holder.close(r));
  }
  throw new Error(`no port on ${address} with free neighbours in 20 tries`);
}

async function bindable(address: string, port: number): Promise<boolean> {
  const s = net.createServer();
  try {
    await listen(s, address, port);
    await new Promise((r) => s.close(r));
    return true;
  } catch {
    return false;
  }
}

/**
 * Listens each server on loopback port 0, calling `onSocket` for each socket it accepts (on `event`);
 * `close()` destroys the accepted sockets and closes the servers.
 */
export async function listenEach<K extends string>(
  made: readonly (readonly [K, net.Server])[],
  event: 'connection' | 'secureConnection',
  onSocket: (key: K, s: net.Socket) => void,
): Promise<{ ports: Record<K, number>; close: () => Promise<void> }> {
  const ports = {} as Record<K, number>;
  const accepted: net.Socket[] = [];
  for (const [key, srv] of made) {
    srv.on(event, (s: net.Socket) => {
      accepted.push(s);
      s.on('error', () => {});
      onSocket(key, s);
    });
    ports[key] = await listen(srv);
  }
  const close = async (): Promise<void> => {
    for (const s of accepted) s.destroy();
    await Promise.all(made.map(([, s]) => new Promise((r) => s.close(r))));
  };
  return { ports, close };
}
