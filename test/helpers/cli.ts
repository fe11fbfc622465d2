/** Runs the built CLI (bin/herd.js) in a child process, as a user would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { waitForPort } from './mosquitto.js';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const HERD_BIN = fileURLToPath(new URL('../../bin/herd.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runHerd(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; timeoutMs?: number; onSpawn?: (pid: number) => void } = {},
): Promise<CliResult> {
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

/** What results.json says about the harness and the thresholds, for a failure message. */
function verdictEvidence(stdout: string): string {
  const path = /^results: (.+)$/m.exec(stdout)?.[1];
  if (path === undefined || !existsSync(path)) return '(no results.json written)';
  try {
    const r = JSON.parse(readFileSync(path, 'utf8')) as {
      health?: {
        saturated?: boolean;
        affectsVerdict?: boolean;
        reasons?: string[];
        effects?: string[];
        notCounted?: string[];
      };
      thresholds?: { metric: string; expression: string; passed: boolean; observedText: string }[];
      accounting?: { balanced: boolean; detail: string };
    };
    const h = r.health ?? {};
    const lines = [
      `results: ${path}`,
      `saturated ${h.saturated} · affects verdict ${h.affectsVerdict}`,
      ...[...(h.reasons ?? []), ...(h.effects ?? []), ...(h.notCounted ?? [])].map((x) => `  saturation: ${x}`),
      ...(r.thresholds ?? [])
        .filter((t) => !t.passed)
        .map((t) => `  failed threshold: ${t.metric} ${t.expression} observed ${t.observedText}`),
      ...(r.accounting && !r.accounting.balanced ? [`  accounting: ${r.accounting.detail}`] : []),
    ];
    return lines.join('\n');
  } catch (err) {
    return `(results.json unreadable: ${String(err)})`;
  }
}

/**
 * Asserts herd's exit code; on a mismatch the message carries herd's stderr, the end of its
 * stdout and the saturation reasons and failed thresholds from results.json, so a failing CLI test
 * says why without a rerun.
 */
export function expectExit(r: CliResult, code: number): void {
  if (r.code === code) return;
  const tail = r.stdout.split('\n').slice(-25).join('\n');
  throw new Error(
    `herd exited ${r.code ?? `by signal ${r.signal}`}, expected ${code}\n` +
      `--- verdict evidence ---\n${verdictEvidence(r.stdout)}\n--- stderr ---\n${r.stderr.trim() || '(empty)'}\n--- stdout (end) ---\n${tail}`,
  );
}

/** A standalone `herd target` on a free loopback port, shared by several runs in a test. */
/**
 * Starts `herd target` on ports it chooses itself (--port 0) and reads its MQTT URL from what it
 * prints. Choosing a free port here and passing it would race: the target takes consecutive ports,
 * and the neighbours may meanwhile be another test's ephemeral ports (the target then dies).
 */
export async function startHerdTarget(
  extraArgs: string[] = [],
): Promise<{ url: string; port: number; child: ChildProcess; stop(): void }> {
  const child = spawn(process.execPath, [HERD_BIN, 'target', '--port', '0', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`herd target printed no MQTT URL within 10 s:\n${out}`)), 10_000);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGTERM');
      reject(err);
    };
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /\bmqtt\s+mqtt:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m === null) return;
      clearTimeout(timer);
      resolve(Number(m[1]));
    });
    child.once('exit', (code) => fail(new Error(`herd target exited (${code}) before listening:\n${out}`)));
  });
  child.stdout?.resume();
  child.stderr?.resume();
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
