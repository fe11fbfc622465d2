/**
 * The targets the bench measures against, each in its own process on a free loopback port, one
 * fresh instance per measurement (so no run inherits another's sessions or TIME_WAIT tuples):
 * a private Mosquitto with our own config, and herd's embedded target (spawnEmbeddedTarget from
 * dist/). Both are ended by the PID we started.
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { endChild, freePort, waitForListener } from './procs.js';

const HOST = '127.0.0.1';
const MOSQUITTO_CANDIDATES = [
  '/usr/sbin/mosquitto',
  '/usr/bin/mosquitto',
  '/usr/local/sbin/mosquitto',
  '/usr/local/bin/mosquitto',
  '/opt/homebrew/sbin/mosquitto',
];

/**
 * @typedef {{ kind: 'mosquitto' | 'embedded', host: string, port: number, url: string, pid: number, stop(): Promise<void> }} Target
 * @typedef {{ kind: 'mosquitto' | 'embedded', label: string, version: string, listenBacklog: number, start(): Promise<Target> }} TargetFactory
 */

/** @returns {string | null} */
export function findMosquitto() {
  const fromEnv = process.env.HERD_BENCH_MOSQUITTO;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : null;
  return MOSQUITTO_CANDIDATES.find((p) => existsSync(p)) ?? null;
}

function mosquittoVersion(binary) {
  try {
    const out = execFileSync(binary, ['-h'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return /version\s+(\S+)/.exec(out)?.[1] ?? 'unknown';
  } catch (err) {
    // `mosquitto -h` exits non-zero but still prints its version.
    const text = String(err?.stdout ?? '') + String(err?.stderr ?? '');
    return /version\s+(\S+)/.exec(text)?.[1] ?? 'unknown';
  }
}

/** @returns {TargetFactory} */
export function mosquittoFactory(binary) {
  return {
    kind: 'mosquitto',
    label: 'Mosquitto',
    version: mosquittoVersion(binary),
    // Fixed in Mosquitto's source (listen(sock, 100)); nothing in its config raises it.
    listenBacklog: 100,
    async start() {
      const port = await freePort(HOST);
      const dir = mkdtempSync(join(tmpdir(), 'herd-bench-mosq-'));
      const conf = join(dir, 'mosquitto.conf');
      // Mosquitto's listen backlog is fixed at 100; nothing here can raise it.
      writeFileSync(
        conf,
        [
          `listener ${port} ${HOST}`,
          'allow_anonymous true',
          'max_connections -1',
          'log_dest none',
          'persistence false',
          '',
        ].join('\n'),
      );
      const broker = await spawnMosquitto(binary, conf, dir, port);
      return {
        kind: 'mosquitto',
        host: HOST,
        port,
        url: `mqtt://${HOST}:${port}`,
        ...broker,
      };
    },
  };
}

/** @returns {TargetFactory} */
export function embeddedFactory(repoRoot) {
  return {
    kind: 'embedded',
    label: 'embedded (aedes)',
    version: 'herd embedded target',
    // docs/target.md: 4096, capped by net.core.somaxconn.
    listenBacklog: 4096,
    async start() {
      /** @type {{ spawnEmbeddedTarget: (o?: object) => Promise<{ host: string, port: number, url: string, pid: number, stop(): Promise<void> }> }} */
      const mod = await import(pathToFileURL(join(repoRoot, 'dist/target/spawn.js')).href);
      const t = await mod.spawnEmbeddedTarget();
      return { kind: 'embedded', host: t.host, port: t.port, url: t.url, pid: t.pid, stop: () => t.stop() };
    },
  };
}

/** Starts a fresh broker from `factory`, runs `fn` against it, and stops it whatever happens. */
export async function withBroker(factory, fn) {
  const t = await factory.start();
  try {
    return await fn(t);
  } finally {
    await t.stop();
  }
}

/**
 * Starts Mosquitto on `conf` and waits until it listens on `port`; its stderr (first 4 KB) says why
 * when it does not. `stop` ends it by its PID and removes `dir`.
 */
export async function spawnMosquitto(binary, conf, dir, port) {
  const child = spawn(binary, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => {
    if (stderr.length < 4096) stderr += d.toString();
  });
  try {
    await waitForListener(HOST, port, 10_000);
  } catch (err) {
    await endChild(child);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mosquitto did not start: ${err.message} ${stderr.trim()}`);
  }
  return {
    pid: child.pid ?? -1,
    stop: async () => {
      await endChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
