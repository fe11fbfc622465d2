/** Starts a private Mosquitto on a free loopback port for a test, and stops it by its PID. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as net from 'node:net';

export interface Mosquitto {
  host: string;
  port: number;
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Ends a broker we started, by its PID, and removes its config folder. */
async function stopBroker(child: ChildProcess, dir: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
}

export async function waitForPort(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`mosquitto did not listen on ${host}:${port} within ${timeoutMs}ms`);
}

/** `extraConfig` lines are appended to the listener config (e.g. TLS settings). */
export async function startMosquitto(binary: string, extraConfig: string[] = []): Promise<Mosquitto> {
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startMosquittoOnce(binary, extraConfig);
    } catch (err) {
      last = err; // the probed port was taken before Mosquitto bound it: try a fresh one
    }
  }
  throw last;
}

async function startMosquittoOnce(binary: string, extraConfig: string[]): Promise<Mosquitto> {
  const host = '127.0.0.1';
  const port = await freePort(host);
  const dir = mkdtempSync(join(tmpdir(), 'herd-mosq-'));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} ${host}`,
      'allow_anonymous true',
      'max_connections -1',
      'log_dest none',
      ...extraConfig,
      '',
    ].join('\n'),
  );
  // Output ignored: an unread pipe would fill up and stall the broker.
  const child = spawn(binary, ['-c', conf], { stdio: 'ignore' });
  try {
    await waitForPort(host, port, 10_000);
  } catch (err) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    host,
    port,
    url: `mqtt://${host}:${port}`,
    child,
    stop: () => stopBroker(child, dir),
  };
}

export interface MosquittoListenerSpec {
  name: string;
  protocol: 'mqtt' | 'websockets';
  /** PEM paths: a TLS listener. */
  tls?: { cafile: string; certfile: string; keyfile: string; requireCertificate?: boolean };
  /** More lines for this listener (with `per_listener_settings true`, e.g. allow_anonymous). */
  extra?: string[];
}

export interface MosquittoMulti {
  host: string;
  /** Port per listener name. */
  ports: Record<string, number>;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts one Mosquitto with several listeners (TCP, TLS, WebSocket, WebSocket+TLS…), each on a free
 * loopback port. Note: Debian's libwebsockets binds websockets listeners on all interfaces even
 * when an address is given; tests still connect only to 127.0.0.1.
 */
export async function startMosquittoListeners(
  binary: string,
  listeners: MosquittoListenerSpec[],
  extraConfig: string[] = [],
): Promise<MosquittoMulti> {
  // A free port can be taken by another test between our probe and Mosquitto's bind (and
  // Debian's websockets listeners bind every interface): try again on fresh ports.
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startMosquittoListenersOnce(binary, listeners, extraConfig);
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

async function startMosquittoListenersOnce(
  binary: string,
  listeners: MosquittoListenerSpec[],
  extraConfig: string[],
): Promise<MosquittoMulti> {
  const host = '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'herd-mosq-'));
  const conf = join(dir, 'mosquitto.conf');
  const ports: Record<string, number> = {};
  // Global options first: Mosquitto reads per_listener_settings before any listener.
  const lines = [...extraConfig, 'allow_anonymous true', 'max_connections -1'];
  const taken = new Set<number>();
  for (const l of listeners) {
    let port = await freePort(host);
    while (taken.has(port)) port = await freePort(host);
    taken.add(port);
    ports[l.name] = port;
    lines.push(`listener ${port} ${host}`);
    if (l.protocol === 'websockets') lines.push('protocol websockets');
    if (l.tls) {
      lines.push(`cafile ${l.tls.cafile}`, `certfile ${l.tls.certfile}`, `keyfile ${l.tls.keyfile}`);
      if (l.tls.requireCertificate) lines.push('require_certificate true');
    }
    lines.push(...(l.extra ?? []));
  }
  writeFileSync(conf, [...lines, ''].join('\n'));
  const child = spawn(binary, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.resume();
  try {
    for (const port of Object.values(ports)) await waitForPort(host, port, 10_000);
  } catch (err) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    host,
    ports,
    child,
    stop: () => stopBroker(child, dir),
  };
}
