/**
 * Starts the embedded target in its own child process(es) on free loopback ports. Each process
 * is a separate broker with its own open-file cap (20,000 here): pub/sub does not cross them.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { HerdError } from '../errors.js';
import { compiledSibling } from '../util/paths.js';
import { type TargetOptionsInput } from '../scenario/target-options.js';
import { mergeLag, type TargetLag } from './lag.js';
import type { ListenerName } from './metrics.js';
import { parseTargetOptions, type ResolvedTargetOptions } from './options.js';
import type { ProcessEndpoints } from './process.js';

export interface TargetMessage {
  type: 'listening';
  index: number;
  pid: number;
  host: string;
  port: number;
  endpoints: ProcessEndpoints;
  metricsUrl: string;
}

export type ParentMessage =
  | { type: 'origin'; originNs: string; measuredUs: number | null }
  | { type: 'peers'; metricsUrls: string[] }
  | { type: 'lag' };

/** A target process's answer to { type: 'lag' }: its lag, and its own count of deliveries it dropped on purpose. */
export interface LagMessage {
  type: 'lag';
  index: number;
  lag: TargetLag;
  /** Deliveries dropped on purpose (messageLossRate, blackhole outages): publishes it acknowledged. */
  deliveriesDropped: number;
}

export type EndpointKind = keyof ProcessEndpoints;

export interface TargetEndpoint {
  process: number;
  kind: EndpointKind;
  url: string;
}

export interface TargetProcessInfo {
  index: number;
  pid: number;
  endpoints: ProcessEndpoints;
  metricsUrl: string;
}

export interface EmbeddedTarget {
  /** The first process's MQTT TCP endpoint (what a plain `target: embedded` run connects to). */
  url: string;
  host: string;
  port: number;
  /** PID of the first process. */
  pid: number;
  pids: number[];
  processes: TargetProcessInfo[];
  /** Every endpoint of every process, process by process. */
  endpoints: TargetEndpoint[];
  /** Prometheus page of all processes (served by the first, labelled by process). */
  metricsUrl: string;
  options: ResolvedTargetOptions;
  /** Resolves when any target process exits (on its own or after stop()). */
  firstExit: Promise<{ index: number; code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * Sends the run origin (process.hrtime.bigint() of the harness) so outages are timed from it, and
   * how long from it the run measures (the plan's duration): the target's lag counts only inside.
   */
  setOrigin(originNs: bigint, measuredUs?: number | null): void;
  /** How late the host ran the target's model, all processes together; null if a process did not answer. */
  lag(): Promise<TargetLag | null>;
  /** Deliveries the target dropped on purpose, by its own count (null when a process did not answer). */
  deliveriesDropped(): Promise<number | null>;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 15_000;
const LAG_ANSWER_TIMEOUT_MS = 2_000;
const STOP_GRACE_MS = 3_000;

interface Child {
  child: ChildProcess;
  msg: TargetMessage;
  exited: Promise<void>;
}

function startChild(index: number, options: ResolvedTargetOptions): Promise<Child> {
  const script = compiledSibling(import.meta.url, './main.js');
  // execArgv: [] so flags of the parent (--input-type, --inspect…) never break the target.
  const child = fork(script, [JSON.stringify({ index, options })], {
    execArgv: [],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return new Promise<Child>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new HerdError(
          'E_TARGET_START',
          `the embedded target (process ${index}) did not start within ${START_TIMEOUT_MS / 1000}s`,
        ),
      );
    }, START_TIMEOUT_MS);
    child.once('message', (m: TargetMessage) => {
      clearTimeout(timer);
      resolve({ child, msg: m, exited });
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const hint = /EADDRINUSE/.test(stderr) ? ` (port in use; choose another --port or 0)` : '';
      reject(
        new HerdError(
          'E_TARGET_START',
          `the embedded target (process ${index}) exited while starting (${signal ?? `code ${code}`})${hint}`,
          stderr ? [stderr.trim()] : [],
        ),
      );
    });
  });
}

async function stopChild(c: ChildProcess, exited: Promise<void>): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  c.kill('SIGTERM');
  const t = setTimeout(() => c.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(t);
}

/** Validates `input` (throws HerdError E_SCENARIO_INVALID naming the field) and starts the target. */
export async function spawnEmbeddedTarget(
  input: TargetOptionsInput = {},
  where = 'target.embedded',
): Promise<EmbeddedTarget> {
  return spawnResolvedTarget(parseTargetOptions(input, where));
}

export async function spawnResolvedTarget(options: ResolvedTargetOptions): Promise<EmbeddedTarget> {
  const settled = await Promise.allSettled(Array.from({ length: options.processes }, (_, i) => startChild(i, options)));
  const children = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(children.map((c) => stopChild(c.child, c.exited)));
    throw failed.reason;
  }
  children.sort((a, b) => a.msg.index - b.msg.index);
  const metricsUrls = children.map((c) => c.msg.metricsUrl);
  for (const c of children) c.child.send({ type: 'peers', metricsUrls } satisfies ParentMessage);
  const first = children[0] as Child;
  return {
    url: first.msg.endpoints.mqtt,
    host: first.msg.host,
    port: first.msg.port,
    pid: first.msg.pid,
    pids: children.map((c) => c.msg.pid),
    processes: children.map((c) => ({
      index: c.msg.index,
      pid: c.msg.pid,
      endpoints: c.msg.endpoints,
      metricsUrl: c.msg.metricsUrl,
    })),
    endpoints: children.flatMap((c) =>
      Object.entries(c.msg.endpoints).map(([kind, url]) => ({
        process: c.msg.index,
        kind: kind as EndpointKind,
        url: url as string,
      })),
    ),
    metricsUrl: first.msg.metricsUrl,
    options,
    firstExit: Promise.race(
      children.map(
        (c) =>
          new Promise<{ index: number; code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
            if (c.child.exitCode !== null || c.child.signalCode !== null)
              resolve({ index: c.msg.index, code: c.child.exitCode, signal: c.child.signalCode });
            else c.child.once('exit', (code, signal) => resolve({ index: c.msg.index, code, signal }));
          }),
      ),
    ),
    setOrigin(originNs, measuredUs = null) {
      for (const c of children)
        if (c.child.connected)
          c.child.send({ type: 'origin', originNs: originNs.toString(), measuredUs } satisfies ParentMessage);
    },
    lag: async () => {
      const answers = await Promise.all(children.map((c) => askLag(c.child)));
      return answers.some((a) => a === null) ? null : mergeLag(answers.map((a) => (a as LagMessage).lag));
    },
    deliveriesDropped: async () => {
      const answers = await Promise.all(children.map((c) => askLag(c.child)));
      return answers.some((a) => a === null)
        ? null
        : answers.reduce((n, a) => n + (a as LagMessage).deliveriesDropped, 0);
    },
    stop: async () => {
      await Promise.all(children.map((c) => stopChild(c.child, c.exited)));
    },
  };
}

function askLag(c: ChildProcess): Promise<LagMessage | null> {
  if (!c.connected) return Promise.resolve(null);
  return new Promise((resolve) => {
    const done = (v: LagMessage | null): void => {
      clearTimeout(timer);
      c.off('message', onMessage);
      resolve(v);
    };
    const onMessage = (m: LagMessage): void => {
      if (m.type === 'lag') done(m);
    };
    const timer = setTimeout(() => done(null), LAG_ANSWER_TIMEOUT_MS);
    c.on('message', onMessage);
    c.send({ type: 'lag' } satisfies ParentMessage);
  });
}

/**
 * Starts the target again on the very ports it had (after it died mid-run), so devices following
 * their reconnect policy find it where they left it.
 */
export async function restartEmbeddedTarget(t: EmbeddedTarget): Promise<EmbeddedTarget> {
  await t.stop();
  const port = (url: string | undefined): number | undefined =>
    url === undefined ? undefined : Number(new URL(url).port);
  const fixedPorts = t.processes.map((p) => {
    const e = p.endpoints as unknown as Record<string, string | undefined>;
    const out: Partial<Record<ListenerName | 'metrics', number>> = {};
    const put = (k: ListenerName | 'metrics', v: number | undefined): void => {
      if (v !== undefined) out[k] = v;
    };
    put('mqtt', port(e.mqtt));
    put('ws', port(e.ws ?? e.mqttWs));
    put('mqtts', port(e.mqtts));
    put('wss', port(e.wss ?? e.mqttWss));
    put('metrics', port(p.metricsUrl));
    return out;
  });
  return spawnResolvedTarget({ ...t.options, fixedPorts });
}
