/**
 * A private RabbitMQ node with its MQTT plugin, started by a test as a child process and killed and
 * restarted like a crashed broker. Nothing is shared with a system RabbitMQ: its own folder (data,
 * logs, config, enabled plugins, Erlang cookie), a unique node name, its own epmd on a free loopback
 * port, the MQTT listener and Erlang distribution bound to 127.0.0.1, the AMQP listener off.
 * Every process it started is ended by PID. Its console log is read as it is written: each
 * "accepting MQTT connection … client id: <id>" line carries RabbitMQ's own timestamp (µs), an
 * account of the outage independent of herd.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as net from 'node:net';
import { createInterface } from 'node:readline';
import { findProgram } from './external.js';
import { freePort } from './mosquitto.js';
import { childrenOf, isAlive } from './procs.js';

export interface BrokerConnect {
  clientId: string;
  /** RabbitMQ's own log timestamp, µs since the epoch. */
  atUs: number;
}

/**
 * RabbitMQ 3.10's line, logged at info when the CONNECT is accepted (before its CONNACK):
 * `2026-12-05 12:36:49.318077+00:00 [info] <0.691.0> accepting MQTT connection <0.691.0>
 * (127.0.0.1:50902 -> 127.0.0.1:18831, client id: dev-42)` (one line).
 */
const ACCEPTED = new RegExp(
  String.raw`^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)\.(\d{6})([+-]\d\d:\d\d) \[info\] <[^>]+> ` +
    String.raw`accepting MQTT connection <[^>]+> \(.*, client id: (.+)\)$`,
);

export function parseAcceptedLine(line: string): BrokerConnect | null {
  const m = ACCEPTED.exec(line);
  if (m === null) return null;
  const [, date, time, micros, zone, clientId] = m as unknown as [string, string, string, string, string, string];
  return { clientId, atUs: Date.parse(`${date}T${time}${zone}`) * 1000 + Number(micros) };
}

const START_TIMEOUT_MS = 90_000;
const POLL_MS = 100;

export class LoggedRabbitMQ {
  readonly host = '127.0.0.1';
  readonly dir = mkdtempSync(join(tmpdir(), 'herd-rabbit-'));
  readonly node = `herd-${process.pid}-${randomBytes(4).toString('hex')}@localhost`;
  port = 0;
  /** RabbitMQ's version, from its start banner ('' until logged). */
  version = '';
  /** How long each start took until MQTT accepted TCP, ms. */
  readonly startMs: number[] = [];
  /** One list of accepted MQTT connections per node life (start → kill). */
  readonly lives: BrokerConnect[][] = [];
  private epmdPort = 0;
  private distPort = 0;
  private epmd: ChildProcess | null = null;
  private child: ChildProcess | null = null;
  private readonly logTail: string[] = [];
  private waiters: { life: number; prefix: string; n: number; resolve: () => void }[] = [];

  /** `script`: RabbitMQ's own start script (not Debian's /usr/sbin wrapper, which switches user). */
  constructor(private readonly script: string) {}

  /** The start script, or null when RabbitMQ is not installed. */
  static find(): string | null {
    return findProgram('rabbitmq-server');
  }

  get url(): string {
    return `mqtt://${this.host}:${this.port}`;
  }

  /** Starts a node life; the first call picks the ports and starts epmd. Resolves once MQTT accepts TCP. */
  async start(): Promise<void> {
    if (this.port === 0) await this.firstStart();
    const t0 = performance.now();
    const life: BrokerConnect[] = [];
    this.lives.push(life);
    const child = spawn(this.script, [], { env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const onLine = (line: string): void => {
      this.logTail.push(line);
      if (this.logTail.length > 40) this.logTail.shift();
      const v = /Starting RabbitMQ (\d+\.\d+\.\d+)/.exec(line);
      if (v !== null) this.version = v[1] as string;
      const c = parseAcceptedLine(line);
      if (c === null) return;
      life.push(c);
      this.wake();
    };
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', onLine);
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', onLine);
    await this.untilListening(child);
    this.startMs.push(Math.round(performance.now() - t0));
  }

  /** Resolves once life `life` has logged `n` distinct client ids starting with `prefix`. */
  clients(life: number, n: number, prefix: string): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push({ life, prefix, n, resolve });
      this.wake();
    });
  }

  /** Each client id's first accepted connection in life `life`, in log order. */
  distinct(life: number, prefix: string): BrokerConnect[] {
    const seen = new Set<string>();
    return (this.lives[life] ?? []).filter((c) =>
      !c.clientId.startsWith(prefix) || seen.has(c.clientId) ? false : (seen.add(c.clientId), true),
    );
  }

  /** The node's last log lines, for a failure message. */
  tail(): string {
    return this.logTail.join('\n');
  }

  /** SIGKILL to the Erlang VM, as a crash: no goodbye to any client. Its helpers are ended by PID. */
  async kill(): Promise<void> {
    await this.end('SIGKILL');
  }

  /**
   * Ends the node, then epmd; removes the folder. SIGKILL, not a graceful stop: nothing of the node
   * is kept, and RabbitMQ's orderly shutdown only costs seconds.
   */
  async stop(): Promise<void> {
    await this.end('SIGKILL');
    const e = this.epmd;
    if (e !== null && e.exitCode === null && e.signalCode === null) {
      const exited = new Promise<void>((r) => e.once('exit', () => r()));
      e.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async firstStart(): Promise<void> {
    const epmdBin = findProgram('epmd');
    if (epmdBin === null) throw new Error('epmd (Erlang) not found although rabbitmq-server is installed');
    this.port = await freePort(this.host);
    this.epmdPort = await freePort(this.host);
    this.distPort = await freePort(this.host);
    writeFileSync(
      join(this.dir, 'rabbitmq.conf'),
      [
        'listeners.tcp = none',
        `mqtt.listeners.tcp.1 = ${this.host}:${this.port}`,
        'mqtt.allow_anonymous = true',
        'log.console = true',
        'log.console.level = info',
        'log.console.use_colors = off',
        'log.file = false',
        '',
      ].join('\n'),
    );
    writeFileSync(join(this.dir, 'enabled_plugins'), '[rabbitmq_mqtt].\n');
    // Our own epmd, in the foreground, on a private port: the node must not start a shared daemon.
    const epmd = spawn(epmdBin, ['-port', String(this.epmdPort), '-address', this.host], { stdio: 'ignore' });
    this.epmd = epmd;
    await pollConnect(this.host, this.epmdPort, epmd, 10_000, () => 'epmd');
  }

  private env(): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      LANG: 'C.UTF-8',
      HOME: this.dir, // the Erlang cookie goes here
      RABBITMQ_CONF_ENV_FILE: join(this.dir, 'rabbitmq-env.conf'), // absent: /etc/rabbitmq's is not read
      RABBITMQ_NODENAME: this.node,
      RABBITMQ_MNESIA_BASE: join(this.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(this.dir, 'log'),
      RABBITMQ_CONFIG_FILE: join(this.dir, 'rabbitmq.conf'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(this.dir, 'enabled_plugins'),
      RABBITMQ_DIST_PORT: String(this.distPort),
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: `-start_epmd false -kernel inet_dist_use_interface {127,0,0,1}`,
      ERL_EPMD_ADDRESS: this.host,
      ERL_EPMD_PORT: String(this.epmdPort),
    };
  }

  private async untilListening(child: ChildProcess): Promise<void> {
    try {
      await pollConnect(this.host, this.port, child, START_TIMEOUT_MS, () => this.tail());
    } catch (err) {
      await this.end('SIGKILL');
      throw err;
    }
  }

  /**
   * Ends the current node life: the start script's child is the Erlang VM (beam), whose children
   * (erl_child_setup, port programs) are listed first and ended by PID if they outlive it.
   */
  private async end(signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const script = this.child;
    if (script === null || script.pid === undefined) return;
    if (script.exitCode !== null || script.signalCode !== null) return;
    const exited = new Promise<void>((r) => script.once('exit', () => r()));
    const tree = descendants(script.pid);
    const beam = tree.find((p) => /beam/.test(p.cmdline));
    if (beam !== undefined) process.kill(beam.pid, signal);
    else script.kill('SIGKILL'); // the VM is not up yet
    const bounded = await Promise.race([exited.then(() => true), delay(30_000).then(() => false)]);
    if (!bounded) {
      if (beam !== undefined && isAlive(beam.pid)) process.kill(beam.pid, 'SIGKILL');
      script.kill('SIGKILL');
      await exited;
    }
    for (const p of tree) if (isAlive(p.pid)) process.kill(p.pid, 'SIGKILL');
  }

  private wake(): void {
    this.waiters = this.waiters.filter((w) => {
      if (this.distinct(w.life, w.prefix).length < w.n) return true;
      w.resolve();
      return false;
    });
  }
}

function descendants(pid: number): { pid: number; cmdline: string }[] {
  const out: { pid: number; cmdline: string }[] = [];
  for (const c of childrenOf(pid)) out.push(c, ...descendants(c.pid));
  return out;
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

/** Polls a TCP connect every POLL_MS, bounded in time; fails early when `owner` exits. */
async function pollConnect(
  host: string,
  port: number,
  owner: ChildProcess,
  timeoutMs: number,
  why: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    if (owner.exitCode !== null || owner.signalCode !== null)
      throw new Error(`exited (${owner.exitCode ?? owner.signalCode}) before listening on ${host}:${port}:\n${why()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await delay(POLL_MS);
  }
  throw new Error(`not listening on ${host}:${port} within ${timeoutMs} ms:\n${why()}`);
}
