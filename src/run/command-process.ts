/**
 * One command of a declared outage as a process: `/bin/sh -c <line>` in its own process group
 * (spawned detached), so a timeout or Ctrl-C ends the shell and everything it started, by
 * `kill(-pgid)`: SIGTERM, then SIGKILL after a grace. A process the command itself put in another
 * session (`setsid`, `docker start`, a daemon) is the user's to keep and is left alone.
 */
import { spawn } from 'node:child_process';
import { OutputTail } from './command-output.js';

/** How long a process group gets between SIGTERM and SIGKILL. */
export const KILL_GRACE_MS = 2000;
/** How long after the shell exits its output may still arrive (a background child can hold the pipe). */
const OUTPUT_GRACE_MS = 500;

export interface CommandExit {
  exitCode: number | null;
  signal: string | null;
  durationUs: number;
  /** 'timeout' or 'interrupted' when herd ended it; 'spawn-error' when it never ran. */
  endedBy: 'timeout' | 'interrupted' | 'spawn-error' | null;
  note: string | null;
  outputTail: string;
  outputTruncated: boolean;
}

export interface RunningCommand {
  /** The process group (the shell's pid); null when it could not start. */
  readonly pgid: number | null;
  readonly done: Promise<CommandExit>;
  /** Ends the process group now (Ctrl-C). */
  interrupt(): void;
}

export function startCommand(line: string, timeoutMs: number, env: NodeJS.ProcessEnv = process.env): RunningCommand {
  const t0 = process.hrtime.bigint();
  const child = spawn('/bin/sh', ['-c', line], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
  const tail = new OutputTail();
  child.stdout.on('data', (d: Buffer) => tail.push(d));
  child.stderr.on('data', (d: Buffer) => tail.push(d));
  let endedBy: CommandExit['endedBy'] = null;
  let note: string | null = null;
  let killTimer: NodeJS.Timeout | null = null;
  const pgid = child.pid ?? null;
  let exited = false;
  const end = (why: 'timeout' | 'interrupted'): void => {
    // Once the shell has exited herd no longer owns its group: what it left there is the user's.
    if (endedBy !== null || pgid === null || exited) return;
    endedBy = why;
    signalGroup(pgid, 'SIGTERM');
    // Whatever ignores SIGTERM, and anything the shell left in its group, goes after the grace.
    killTimer = setTimeout(() => signalGroup(pgid, 'SIGKILL'), KILL_GRACE_MS);
  };
  const timer = setTimeout(() => end('timeout'), timeoutMs);
  const done = new Promise<CommandExit>((resolve) => {
    const finish = (exitCode: number | null, signal: string | null): void => {
      clearTimeout(timer);
      const durationUs = Number((process.hrtime.bigint() - t0) / 1000n);
      let settled = false;
      const settle = (): void => {
        if (settled) return;
        settled = true;
        child.stdout.destroy();
        child.stderr.destroy();
        const out = tail.read(line, env);
        resolve({ exitCode, signal, durationUs, endedBy, note, outputTail: out.text, outputTruncated: out.truncated });
      };
      // The shell is gone; its output may still be in the pipe, or a background child may hold it open.
      if (child.stdout.readableEnded && child.stderr.readableEnded) settle();
      else {
        const grace = setTimeout(settle, OUTPUT_GRACE_MS);
        child.once('close', () => {
          clearTimeout(grace);
          settle();
        });
      }
    };
    child.once('error', (err) => {
      if (child.pid !== undefined) return; // an error after the start (a kill that failed) ends nothing
      exited = true;
      endedBy = 'spawn-error';
      note = `could not start /bin/sh: ${err.message}`;
      finish(null, null);
    });
    child.once('exit', (code, signal) => {
      exited = true;
      // The group goes with the shell when herd ended it: stragglers get SIGKILL at once.
      if (endedBy === 'timeout' || endedBy === 'interrupted') {
        if (killTimer !== null) clearTimeout(killTimer);
        if (pgid !== null) signalGroup(pgid, 'SIGKILL');
        note = endedBy === 'timeout' ? `ended at its timeout (${timeoutMs} ms)` : 'ended by Ctrl-C';
      }
      finish(code, signal);
    });
  });
  return { pgid, done, interrupt: () => end('interrupted') };
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone
  }
}
