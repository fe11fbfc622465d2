/**
 * A Mosquitto the test kills and restarts on the same port, whose log of new connections is read
 * as it is written: each "New client connected … as <id>" line is stamped on arrival with the
 * test's own monotonic clock, an account of the outage independent of herd. The restart can be
 * the test's (start()) or a shell command's (restoreCommand(): a scenario's declared outage).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { constants, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'vitest';
import type { OutageResult } from '../../src/results/types.js';
import { freePort, waitForPort } from './mosquitto.js';
import { isAlive, waitFor } from './procs.js';

export interface Connect {
  clientId: string;
  atMs: number;
}

export class LoggedMosquitto {
  readonly host = '127.0.0.1';
  readonly dir = mkdtempSync(join(tmpdir(), 'herd-mosq-log-'));
  port = 0;
  /** One list of connects per broker life (start → kill). */
  readonly lives: Connect[][] = [];
  private child: ChildProcess | null = null;
  private fifo: Socket | null = null;
  /** Date.now() − performance.now(): turns a wall-clock time a command wrote into the test's clock. */
  private readonly wallMinusMonotonicMs = Date.now() - performance.now();
  private waiters: { life: number; n: number; resolve: () => void }[] = [];

  constructor(private readonly binary: string) {}

  get url(): string {
    return `mqtt://${this.host}:${this.port}`;
  }

  /** The running broker's pid (the test's child). */
  get pid(): number {
    return this.child?.pid as number;
  }

  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort(this.host);
    const conf = this.writeConf();
    const child = spawn(this.binary, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    this.readLife(child.stderr as NodeJS.ReadableStream);
    await waitForPort(this.host, this.port, 10_000);
  }

  /**
   * A shell command line that starts the broker again on the same port in its own session (so it
   * outlives the command, as a `systemctl start` would), its log still stamped here as it arrives
   * through a FIFO. Call once the broker's port is known.
   */
  restoreCommand(): string {
    const fifo = join(this.dir, 'restored.log');
    execFileSync('mkfifo', [fifo]);
    // Read and write: opening never blocks, and the reader never sees end-of-file while the test holds it.
    this.fifo = new Socket({ fd: openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK), readable: true });
    this.readLife(this.fifo);
    const pidFile = join(this.dir, 'restored.pid');
    const inner = `echo $$ > ${pidFile}; exec ${this.binary} -c ${this.writeConf()} 2> ${fifo}`;
    // First the wall-clock time the command began (ns): the outage's end, as the broker's account sees it.
    return `date +%s%N > ${join(this.dir, 'restore-began')}; setsid -f sh -c '${inner}' > /dev/null 2>&1`;
  }

  /** When the restore command began, on the test's clock (ms), from the time it wrote. */
  restoreBeganMs(): number {
    const wallMs = Number(readFileSync(join(this.dir, 'restore-began'), 'utf8').trim()) / 1e6;
    return wallMs - this.wallMinusMonotonicMs;
  }

  private writeConf(): string {
    const conf = join(this.dir, 'mosquitto.conf');
    writeFileSync(
      conf,
      [
        `listener ${this.port} ${this.host}`,
        'allow_anonymous true',
        'max_connections -1',
        'log_dest stderr',
        'log_type all',
        'connection_messages true',
        'log_timestamp_format %Y-%m-%dT%H:%M:%S',
        '',
      ].join('\n'),
    );
    return conf;
  }

  private readLife(input: NodeJS.ReadableStream): void {
    const life: Connect[] = [];
    this.lives.push(life);
    createInterface({ input }).on('line', (line) => {
      const atMs = performance.now();
      const m = / New client connected from \S+ as (\S+) /.exec(line);
      if (!m) return;
      life.push({ clientId: m[1] as string, atMs });
      this.wake();
    });
  }

  /** Resolves once life `life` has logged `n` distinct clients. */
  clients(life: number, n: number): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push({ life, n, resolve });
      this.wake();
    });
  }

  distinct(life: number): Connect[] {
    const seen = new Set<string>();
    return (this.lives[life] ?? []).filter((c) => (seen.has(c.clientId) ? false : (seen.add(c.clientId), true)));
  }

  /** SIGKILL, as a crash: no goodbye to any client. */
  async kill(): Promise<void> {
    const c = this.child;
    if (c === null || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (c !== null && c.exitCode === null && c.signalCode === null) {
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill('SIGTERM');
      await exited;
    }
    // The broker a restore command started: ended by the pid it wrote.
    const pidFile = join(this.dir, 'restored.pid');
    const restored = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : 0;
    if (restored > 0 && isAlive(restored)) {
      process.kill(restored, 'SIGTERM');
      await waitFor(() => !isAlive(restored), 10_000);
    }
    this.fifo?.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private wake(): void {
    this.waiters = this.waiters.filter((w) => {
      if (this.distinct(w.life).length < w.n) return true;
      w.resolve();
      return false;
    });
  }
}

/**
 * The broker's account of a recovery: from `fromMs` (default: the life's first connect, the broker
 * accepting again) the k-th distinct client back in life `life` is k devices back.
 */
export function brokerRecoveryUs(broker: LoggedMosquitto, devices: number, life = 1, fromMs?: number): number[] {
  const back = broker.distinct(life);
  expect(back.length).toBe(devices);
  const t0 = fromMs ?? (back[0] as Connect).atMs;
  const at = (share: number): number => ((back[Math.ceil(share * devices) - 1] as Connect).atMs - t0) * 1000;
  return [at(0.5), at(0.9), at(0.99), at(1)];
}

/** herd's recovery 50/90/99/all within 1 s of the broker's account (HERD_SHOW_FIGURES=1 prints both). */
export function expectRecoveryAsLogged(
  o: OutageResult,
  broker: LoggedMosquitto,
  devices: number,
  life = 1,
  fromMs?: number,
): void {
  const herdSays = [o.recovery.p50Us, o.recovery.p90Us, o.recovery.p99Us, o.recovery.p100Us] as number[];
  const brokerSays = brokerRecoveryUs(broker, devices, life, fromMs);
  if (process.env.HERD_SHOW_FIGURES === '1')
    console.log(
      `${o.name} hit ${o.dropped} · recovery p50/p90/p99/all µs: herd ${herdSays.join(' ')} · broker log ${brokerSays.map(Math.round).join(' ')}`,
    );
  herdSays.forEach((us, i) =>
    expect(Math.abs(us - (brokerSays[i] as number)), `herd ${herdSays} vs broker ${brokerSays} (µs)`).toBeLessThan(
      1_000_000,
    ),
  );
}
