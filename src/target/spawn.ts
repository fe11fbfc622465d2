/** Starts the embedded target in its own child process on a free loopback port. */
import { fork, type ChildProcess } from 'node:child_process';
import { HerdError } from '../errors.js';
import { compiledSibling } from '../util/paths.js';
import type { BrokerOptions } from './broker.js';

export interface TargetMessage {
  type: 'listening';
  url: string;
  host: string;
  port: number;
}

export interface EmbeddedTarget {
  url: string;
  host: string;
  port: number;
  pid: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 15_000;

export async function spawnEmbeddedTarget(options: Partial<BrokerOptions> = {}): Promise<EmbeddedTarget> {
  const script = compiledSibling(import.meta.url, './main.js');
  const child = fork(script, [JSON.stringify(options)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString();
  });
  const msg = await new Promise<TargetMessage>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new HerdError('E_TARGET_START', `the embedded target did not start within ${START_TIMEOUT_MS / 1000}s`));
    }, START_TIMEOUT_MS);
    child.once('message', (m: TargetMessage) => {
      clearTimeout(timer);
      resolve(m);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new HerdError('E_TARGET_START', `the embedded target exited while starting (${signal ?? `code ${code}`})`, stderr ? [stderr.trim()] : []));
    });
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return {
    ...msg,
    pid: child.pid ?? -1,
    child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 3_000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}
