/**
 * Runs a whole herd command in this process through an injected context (STYLE.md #8): argv,
 * env, cwd, output streams, wall clock and signals are the test's, and the exit code is the
 * return value. Same result shape as runHerd, without spawning a process.
 */
import { runCli } from '../../src/cli/main.js';
import type { CliContext } from '../../src/cli/context.js';
import { ROOT, type CliResult } from './cli.js';

export interface InProcessOptions {
  cwd?: string;
  env?: Record<string, string>;
  wallClockMs?: number;
  /** Receives a function that delivers a signal to the command, as Ctrl-C would. */
  onStart?(signal: (s: 'SIGINT' | 'SIGTERM') => void): void;
}

export async function herdInProcess(args: string[], opts: InProcessOptions = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const handlers = new Set<(s: 'SIGINT' | 'SIGTERM') => void>();
  const ctx: CliContext = {
    argv: args,
    env: { NO_COLOR: '1', CI: '1', ...opts.env },
    cwd: opts.cwd ?? ROOT,
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    wallClockMs: () => opts.wallClockMs ?? Date.now(),
    onSignal(h) {
      handlers.add(h);
      return () => handlers.delete(h);
    },
  };
  opts.onStart?.((s) => {
    for (const h of [...handlers]) h(s);
  });
  const code = await runCli(ctx);
  return { code, signal: null, stdout, stderr };
}
