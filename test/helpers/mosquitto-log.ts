/**
 * A Mosquitto the test kills and restarts on the same port, whose log of new connections is read
 * as it is written: each "New client connected … as <id>" line is stamped on arrival with the
 * test's own monotonic clock, an account of the outage independent of herd.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort, waitForPort } from './mosquitto.js';

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
  private waiters: { life: number; n: number; resolve: () => void }[] = [];

  constructor(private readonly binary: string) {}

  get url(): string {
    return `mqtt://${this.host}:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort(this.host);
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
    const life: Connect[] = [];
    this.lives.push(life);
    const child = spawn(this.binary, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) => {
      const m = / New client connected from \S+ as (\S+) /.exec(line);
      if (!m) return;
      life.push({ clientId: m[1] as string, atMs: performance.now() });
      this.wake();
    });
    await waitForPort(this.host, this.port, 10_000);
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
