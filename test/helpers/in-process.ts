/**
 * Runs a whole herd command in this process through an injected context: argv,
 * env, cwd, output streams, wall clock and signals are the test's, and the exit code is the
 * return value. Same result shape as runHerd, without spawning a process.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/main.js';
import type { Results } from '../../src/results/types.js';
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

/**
 * `herd run` in process on a scenario (YAML text, or an existing file's path) into a fresh folder;
 * returns the command's result and the results.json it wrote (throws with herd's stderr when none).
 */
export async function runScenario(
  scenario: { yaml: string } | { file: string },
  extraArgs: string[] = [],
): Promise<{ res: CliResult; r: Results }> {
  const dir = mkdtempSync(join(tmpdir(), 'herd-run-'));
  let file: string;
  if ('file' in scenario) file = scenario.file;
  else {
    file = join(dir, 'scenario.yaml');
    writeFileSync(file, scenario.yaml);
  }
  const res = await herdInProcess(['run', file, '--out', join(dir, 'out'), '-q', '--allow-saturated', ...extraArgs]);
  const [id] = existsSync(join(dir, 'out')) ? readdirSync(join(dir, 'out')) : [];
  if (id === undefined) throw new Error(`no results written (exit ${res.code}):\n${res.stderr}`);
  return { res, r: JSON.parse(readFileSync(join(dir, 'out', id, 'results.json'), 'utf8')) as Results };
}
