/** Runs the built CLI (bin/herd.js) in a child process, as a user would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort, waitForPort } from './mosquitto.js';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const HERD_BIN = fileURLToPath(new URL('../../bin/herd.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runHerd(args: string[], opts: { cwd?: string; env?: Record<string, string>; timeoutMs?: number; onSpawn?: (pid: number) => void } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HERD_BIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, NO_COLOR: '1', CI: '1', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A standalone `herd target` on a free loopback port, shared by several runs in a test. */
export async function startHerdTarget(): Promise<{ url: string; port: number; child: ChildProcess; stop(): void }> {
  const port = await freePort();
  const child = spawn(process.execPath, [HERD_BIN, 'target', '--port', String(port)], { stdio: 'ignore' });
  await waitForPort('127.0.0.1', port, 10_000);
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    child,
    stop: () => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGTERM');
    },
  };
}
