/**
 * Declared outages' commands through the real CLI against the embedded target: refused without
 * --allow-commands (exit 2, nothing written), run by shard 1 only, a timeout and a Ctrl-C end the
 * command's whole process group, and what each command did is in results.json and on stderr.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import type { Results } from '../../src/results/types.js';
import { expectExit, HERD_BIN, ROOT, runHerd } from '../helpers/cli.js';
import { groupMembers, waitFor } from '../helpers/procs.js';

/** Two background sleeps and the shell waiting for them: a group of three that lives 100 s unless ended. */
const LINGER = 'sleep 100 & sleep 100 & wait';

function scenario(outage: string[], hold = '6s'): { file: string; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'herd-commands-'));
  const file = join(dir, 's.yaml');
  writeFileSync(
    file,
    [
      'name: declared-commands',
      'devices: 10',
      'reconnect: { policy: exponential, initial: 100ms, max: 1s, jitter: full }',
      'waves:',
      '  - { type: ramp, over: 1s }',
      `hold: ${hold}`,
      'declaredOutages:',
      ...outage.map((l, i) => (i === 0 ? `  - ${l}` : `    ${l}`)),
      '',
    ].join('\n'),
  );
  return { file, out: join(dir, 'out') };
}

function results(out: string): Results {
  const [id] = readdirSync(out);
  return JSON.parse(readFileSync(join(out, id as string, 'results.json'), 'utf8')) as Results;
}

describe('declared outages: the commands', () => {
  it('without --allow-commands: exit 2 naming the field and the flag, nothing run, nothing written', async () => {
    const marker = join(tmpdir(), `herd-never-${process.pid}-${Date.now()}`);
    const s = scenario(['name: b', 'at: 2s', 'duration: 1s', `break: "touch ${marker}"`]);
    const r = await runHerd(['run', s.file, '--out', s.out]);
    expectExit(r, 2);
    expect(r.stderr).toContain('E_COMMANDS_NOT_ALLOWED');
    expect(r.stderr).toContain('declaredOutages[0].break');
    expect(r.stderr).toContain('--allow-commands');
    expect(existsSync(s.out)).toBe(false);
    expect(existsSync(marker)).toBe(false);
  }, 60_000);

  it('shard 2 of 2 runs no command and needs no flag: its record says shard 1 runs them', async () => {
    const marker = join(tmpdir(), `herd-never-${process.pid}-${Date.now()}`);
    const s = scenario(['name: b', 'at: 2s', 'duration: 1s', `break: "touch ${marker}"`, 'restore: "true"'], '3s');
    const r = await runHerd(['run', s.file, '--out', s.out, '--shard', '2/2']);
    expectExit(r, 0);
    expect(existsSync(marker)).toBe(false);
    const o = results(s.out).outages[0];
    expect(o?.commands?.map((c) => [c.role, c.outcome])).toEqual([
      ['break', 'other-shard'],
      ['restore', 'other-shard'],
    ]);
    expect(o?.commandsOk).toBe(true);
  }, 60_000);

  it('a command past its timeout: its process group ended, reported as timeout in results.json and on stderr', async () => {
    const pgidFile = join(tmpdir(), `herd-pgid-${process.pid}-${Date.now()}`);
    const s = scenario([
      'name: slow',
      'at: 1s',
      'duration: 2s',
      `break: "echo $$ > ${pgidFile}; ${LINGER}"`,
      'restore: "exit 4"',
      'timeout: 1s',
    ]);
    const r = await runHerd(['run', s.file, '--out', s.out, '--allow-commands']);
    expectExit(r, 0);
    const o = results(s.out).outages[0];
    expect(o?.commands?.map((c) => [c.role, c.outcome, c.exitCode])).toEqual([
      ['break', 'timeout', null],
      ['restore', 'failed', 4],
    ]);
    expect(o?.commandsOk).toBe(false);
    expect(r.stderr).toMatch(/declared outage slow: break command timeout: ended at its timeout/);
    expect(r.stderr).toMatch(/declared outage slow: restore command failed: exit code 4/);
    expect(r.stdout).toContain('break TIMED OUT');
    const pgid = Number(readFileSync(pgidFile, 'utf8').trim());
    // Signalled before herd exited; the kernel may still be tearing the sleeps down on a busy machine.
    expect(await waitFor(() => groupMembers(pgid).length === 0, 5_000), `${groupMembers(pgid)}`).toBe(true);
  }, 60_000);

  it('Ctrl-C while a command runs: its process group is gone, the restore never runs, exit 130', async () => {
    const s = scenario([
      'name: held',
      'at: 1s',
      'duration: 3s',
      `break: "${LINGER}"`,
      'restore: "true"',
      'timeout: 60s',
    ]);
    const herd = spawn(process.execPath, [HERD_BIN, 'run', s.file, '--out', s.out, '--allow-commands'], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', CI: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let pgid = 0;
    createInterface({ input: herd.stderr }).on('line', (line) => {
      stderr += line + '\n';
      const m = /declared outage held: break command started at \S+ \(process group (\d+)\)/.exec(line);
      if (m) pgid = Number(m[1]);
    });
    herd.stdout.resume();
    const closed = new Promise<number | null>((resolve) => herd.on('close', (code) => resolve(code)));
    try {
      // The group is up: the shell and its two sleeps.
      expect(await waitFor(() => pgid > 0 && groupMembers(pgid).length === 3, 30_000), stderr).toBe(true);
      herd.kill('SIGINT');
      expect(await closed).toBe(130);
    } finally {
      if (herd.exitCode === null) herd.kill('SIGKILL');
    }
    expect(await waitFor(() => groupMembers(pgid).length === 0, 5_000), `${groupMembers(pgid)}`).toBe(true);
    const o = results(s.out).outages[0];
    expect(o?.commands?.map((c) => [c.role, c.outcome])).toEqual([
      ['break', 'interrupted'],
      ['restore', 'not-run'],
    ]);
    expect(stderr).toContain('the run stopped before its restore command ran');
  }, 60_000);
});
