/**
 * Process globals reach commands through one context, so a whole command can run
 * in-process in a test with its own argv, env, working directory, output streams and signals.
 */
import { resolve } from 'node:path';
import type { SignalRouter } from './signal-router.js';

export interface OutStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface CliContext {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  stdout: OutStream;
  stderr: OutStream;
  /** Wall-clock ms since the epoch, for labels and agreed start times (never for durations). */
  wallClockMs(): number;
  /** Subscribes to SIGINT/SIGTERM; returns an unsubscribe function. */
  onSignal(handler: (signal: 'SIGINT' | 'SIGTERM') => void): () => void;
}

/** A path the user gave, resolved against the command's working directory (never the process's). */
export function pathIn(ctx: CliContext, path: string): string {
  return resolve(ctx.cwd, path);
}

/**
 * The real process. Signals come through the router bin/herd.js installs on its first line
 * (signal-router.ts): nothing here adds or removes a process listener.
 */
export function processContext(signals: SignalRouter): CliContext {
  // `herd … | head` closes the pipe early: that is not an error worth a stack trace.
  for (const s of [process.stdout, process.stderr]) {
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  return {
    argv: process.argv.slice(2),
    env: process.env,
    cwd: process.cwd(),
    stdout: process.stdout,
    stderr: process.stderr,
    wallClockMs: () => Date.now(),
    onSignal: (handler) => signals.subscribe(handler),
  };
}
