/**
 * The fault table (issue 22): Ctrl-C at several moments of `herd run` and of `herd breakpoint`,
 * SIGKILL of the coordinator, a full disk and an unwritable step summary. Each must leave the
 * documented report (marked aborted, exit 130) or one clear error — and nothing else: no process,
 * no partial folder. Every moment is found from herd's own output or its processes, never a sleep.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Results } from '../../src/results/types.js';
import type { BreakpointReport } from '../../src/results/breakpoint-types.js';
import { expectExit, HERD_BIN, ROOT, type CliResult } from '../helpers/cli.js';
import { childrenOf, isAlive, waitFor } from '../helpers/procs.js';

const DIR = mkdtempSync(join(tmpdir(), 'herd-fault-table-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

interface Started {
  pid: number;
  stderr(): string;
  done: Promise<CliResult>;
}

function start(args: string[], env: Record<string, string> = {}): Started {
  const child = spawn(process.execPath, [HERD_BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', CI: '1', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return {
    pid: child.pid as number,
    stderr: () => stderr,
    done: new Promise((resolve) =>
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr });
      }),
    ),
  };
}

let n = 0;
function folder(name: string): string {
  const d = join(DIR, `${++n}-${name}`);
  mkdirSync(d);
  return d;
}
function file(dir: string, body: string): string {
  const p = join(dir, 's.yaml');
  writeFileSync(p, body);
  return p;
}

/** herd's own processes (workers, targets) and theirs, for the "nothing left behind" check. */
function descendants(pid: number): number[] {
  const kids = childrenOf(pid).map((k) => k.pid);
  return [...kids, ...kids.flatMap(descendants)];
}

/** Waits for `cond` on herd's output; fails with herd's stderr when it never comes. */
async function until(run: Started, what: string, cond: () => boolean): Promise<void> {
  const ok = await waitFor(cond, 60_000, 20);
  if (!ok) throw new Error(`never saw ${what}; herd's stderr:\n${run.stderr()}`);
}

const hasChild = (run: Started, part: string): boolean => childrenOf(run.pid).some((k) => k.cmdline.includes(part));
const workerCount = (run: Started): number => childrenOf(run.pid).filter((k) => k.cmdline.includes('worker.js')).length;

const RUN = `name: fault-run
devices: 40
device: { keepalive: 30s }
waves:
  - { type: ramp, over: 2s }
hold: 30s
`;
/**
 * RUN with the fleet up sooner, for the cases that wait for every device connected (or for the end
 * of a short run) and do not act mid-ramp: what they check does not depend on the ramp's length.
 */
const QUICK = RUN.replace('over: 2s', 'over: 500ms');
/** A run that ends by itself: QUICK held 1 s. */
const SHORT = QUICK.replace('hold: 30s', 'hold: 1s');

/** The run's one folder and its results.json. */
function onlyRun(out: string): { dir: string; results: Results } {
  const ids = readdirSync(out).filter((d) => !d.startsWith('.'));
  expect(ids, `folders in ${out}`).toHaveLength(1);
  const dir = join(out, ids[0] as string);
  return { dir, results: JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as Results };
}

async function expectAbortedRun(run: Started, out: string, kids: () => number[]): Promise<Results> {
  const before = kids();
  const r = await run.done;
  expectExit(r, 130);
  const { dir, results } = onlyRun(out);
  expect(results.run.status).toBe('aborted');
  expect(results.run.abortReason).toBe('interrupted by SIGINT');
  expect(results.run.exitCode).toBe(130);
  expect(results.accounting.balanced, results.accounting.detail).toBe(true);
  expect(readdirSync(dir).sort()).toEqual(['junit.xml', 'report.html', 'results.json', 'summary.md', 'timeline.csv']);
  expect(await waitFor(() => before.every((p) => !isAlive(p)), 10_000), 'a process herd started outlived it').toBe(
    true,
  );
  return results;
}

/** [moment, wait for it, then what to do]. Each run is started anew; SIGINT once unless said. */
const RUN_MOMENTS: [string, string[], (run: Started) => Promise<void>][] = [
  [
    'while the embedded target starts (before the run line)',
    [],
    async (run) => {
      await until(run, 'the target process', () => hasChild(run, 'target/main.js'));
    },
  ],
  [
    'right after the run line (workers starting)',
    [],
    async (run) => {
      await until(run, 'the run line', () => /herd run \S+: 40 devices/.test(run.stderr()));
    },
  ],
  [
    'waiting for a --start-at origin 5 minutes ahead',
    ['--start-at', new Date(Date.now() + 300_000).toISOString()],
    async (run) => {
      await until(run, 'both workers', () => /herd run \S+:/.test(run.stderr()) && workerCount(run) === 2);
    },
  ],
  [
    'mid-ramp (first second printed)',
    [],
    async (run) => {
      await until(run, 'the first second', () => /t=\s+\d+s/.test(run.stderr()));
    },
  ],
  [
    'holding the fleet (all 40 connected)',
    [],
    async (run) => {
      await until(run, 'every device connected', () => /connected 40\/40/.test(run.stderr()));
    },
  ],
];

describe('Ctrl-C during herd run: a report marked aborted, exit 130, nothing left running', () => {
  for (const [moment, extra, wait] of RUN_MOMENTS) {
    it(
      moment,
      async () => {
        const d = folder('run');
        const out = join(d, 'out');
        const body = moment.includes('all 40 connected') ? QUICK : RUN;
        const run = start(['run', file(d, body), '--out', out, '--workers', '2', ...extra]);
        await wait(run);
        const kids = descendants(run.pid);
        process.kill(run.pid, 'SIGINT');
        const res = await expectAbortedRun(run, out, () => kids);
        if (moment.includes('--start-at') || moment.includes('target starts')) expect(res.attempts.succeeded).toBe(0);
      },
      90_000,
    );
  }

  it('while the CLI loads (held there by a module hook, after bin/herd.js listens)', async () => {
    const d = folder('run-loading');
    const out = join(d, 'out');
    const hold = join(d, 'hold');
    mkdirSync(hold);
    const preload = join(ROOT, 'test/helpers/hold-cli-load.mjs');
    const run = start(['run', file(d, RUN), '--out', out, '--workers', '2'], {
      NODE_OPTIONS: `--import ${preload}`,
      HERD_TEST_HOLD: hold,
    });
    await until(run, 'herd held while loading', () => existsSync(join(hold, 'loading')));
    process.kill(run.pid, 'SIGINT');
    writeFileSync(join(hold, 'go'), '');
    const res = await expectAbortedRun(run, out, () => descendants(run.pid));
    expect(res.attempts.succeeded).toBe(0);
  }, 90_000);

  it('twice (the second forces the stop)', async () => {
    const d = folder('run-twice');
    const out = join(d, 'out');
    const run = start(['run', file(d, QUICK), '--out', out, '--workers', '2']);
    await until(run, 'every device connected', () => /connected 40\/40/.test(run.stderr()));
    const kids = descendants(run.pid);
    process.kill(run.pid, 'SIGINT');
    await until(run, 'the stopping notice', () => run.stderr().includes('SIGINT received: stopping (again to force)'));
    process.kill(run.pid, 'SIGINT');
    await expectAbortedRun(run, out, () => kids);
  }, 90_000);
});

const BREAKPOINT = `name: fault-bp
devices: 10
device: { connectTimeout: 2s }
waves: [{ type: spike, name: unused }]
breakpoint: { startRate: 20, factor: 2, maxRate: 160, maxLevels: 4, settle: 1s, measure: 2s, drain: 500ms }
`;

/** [moment, levels judged before it, wait for it]. */
const BREAKPOINT_MOMENTS: [string, number, (run: Started) => Promise<void>][] = [
  [
    'as level 1 is announced (its run not started)',
    0,
    async (run) => {
      await until(run, 'level 1', () => run.stderr().includes('level 1: step-up 20/s'));
    },
  ],
  [
    'while level 1 runs (its workers up)',
    0,
    async (run) => {
      await until(run, "level 1's workers", () => workerCount(run) > 0);
    },
  ],
  [
    'as level 2 is announced',
    1,
    async (run) => {
      await until(run, 'level 2', () => run.stderr().includes('level 2: step-up 40/s'));
    },
  ],
  [
    'while level 2 runs (its workers up)',
    1,
    async (run) => {
      await until(run, "level 2's workers", () => run.stderr().includes('level 2: step-up') && workerCount(run) > 0);
    },
  ],
];

function breakpointJson(out: string): BreakpointReport {
  const [d] = readdirSync(out).filter((x) => x.startsWith('breakpoint-'));
  return JSON.parse(readFileSync(join(out, d as string, 'breakpoint.json'), 'utf8')) as BreakpointReport;
}

describe('Ctrl-C during herd breakpoint: breakpoint.json with the levels done, marked aborted, exit 130', () => {
  const cases: [string, number, (run: Started) => Promise<void>, number][] = [
    ...BREAKPOINT_MOMENTS.map(([m, l, w]): [string, number, (run: Started) => Promise<void>, number] => [m, l, w, 1]),
    ['twice while level 1 runs (the second forces it)', 0, BREAKPOINT_MOMENTS[1]![2], 2],
  ];
  for (const [moment, judged, wait, signals] of cases) {
    it(
      moment,
      async () => {
        const d = folder('bp');
        const out = join(d, 'out');
        const run = start(['breakpoint', file(d, BREAKPOINT), '--out', out, '--workers', '1']);
        await wait(run);
        const kids = descendants(run.pid);
        process.kill(run.pid, 'SIGINT');
        if (signals === 2) {
          await until(run, 'the stopping notice', () => run.stderr().includes('SIGINT received: stopping the search'));
          process.kill(run.pid, 'SIGINT');
        }
        const r = await run.done;
        expectExit(r, 130);
        const report = breakpointJson(out);
        expect(report.status).toBe('aborted');
        expect(report.abortReason).toBe('interrupted by SIGINT');
        expect(report.verdict).toBe('aborted');
        expect(report.exitCode).toBe(130);
        expect(report.outcome.end).toBe('aborted');
        expect(report.levels).toHaveLength(judged);
        expect(r.stdout).toContain(`search interrupted by SIGINT after ${judged} level`);
        expect(await waitFor(() => kids.every((p) => !isAlive(p)), 10_000), 'a process herd started outlived it').toBe(
          true,
        );
      },
      120_000,
    );
  }
});

describe('other faults', () => {
  it('SIGKILL of the coordinator: its workers and target go too, and no partial report is left', async () => {
    const d = folder('coord');
    const out = join(d, 'out');
    const run = start(['run', file(d, QUICK), '--out', out, '--workers', '2']);
    await until(run, 'every device connected', () => /connected 40\/40/.test(run.stderr()));
    const kids = descendants(run.pid);
    expect(kids.length).toBeGreaterThanOrEqual(3);
    process.kill(run.pid, 'SIGKILL');
    await run.done;
    expect(
      await waitFor(() => kids.every((p) => !isAlive(p)), 15_000),
      'a worker or the target outlived the coordinator',
    ).toBe(true);
    // The --out folder it checked at the start, and nothing in it: the run's folder is made only to write.
    expect(readdirSync(out)).toEqual([]);
  }, 90_000);

  it('an unwritable GITHUB_STEP_SUMMARY: a warning, and the exit code stays what results.json says', async () => {
    const d = folder('summary');
    const out = join(d, 'out');
    const summary = join(d, 'no-such-folder', 'summary.md');
    const run = start(['run', file(d, SHORT), '--out', out, '--workers', '1', '-q', '--allow-saturated'], {
      GITHUB_STEP_SUMMARY: summary,
    });
    const r = await run.done;
    const { results } = onlyRun(out);
    // No thresholds and --allow-saturated: PASSED whatever the machine, so exit 0 in both places.
    expectExit(r, 0);
    expect(results.run.exitCode).toBe(0);
    expect(r.stderr).toContain(
      `warning: GITHUB_STEP_SUMMARY: cannot write ${summary} (ENOENT); the run's own reports are written`,
    );
    expect(r.stderr).not.toMatch(/internal error/);
    expect(existsSync(summary)).toBe(false);
  }, 90_000);

  it('a full disk (ENOSPC) while writing the reports: exit 3 E_OUT_WRITE, no folder left', async (ctx) => {
    // Mounted and unmounted inside the test, so a filtered or failed run never leaves a mount.
    const mnt = folder('tiny');
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'herd-test-tmpfs', mnt], { stdio: 'pipe' });
    } catch (err) {
      const why = `cannot mount a 64 KiB tmpfs here (${String((err as { stderr?: Buffer }).stderr ?? err).trim()})`;
      console.log(`skipping the full-disk case: ${why}`);
      ctx.skip(why);
      return;
    }
    try {
      const d = folder('enospc');
      // 8 KiB left: the folder check at the start passes, the reports (tens of KiB) do not fit.
      writeFileSync(join(mnt, 'filler'), Buffer.alloc(56 * 1024));
      const out = join(mnt, 'reports');
      const run = start(['run', file(d, SHORT), '--out', out, '--workers', '1', '-q', '--allow-saturated']);
      const r = await run.done;
      expectExit(r, 3);
      expect(r.stderr).toMatch(/^error E_OUT_WRITE: cannot write .+: no space left on the device \(ENOSPC\)$/m);
      expect(r.stderr).not.toMatch(/internal error/);
      // The run created --out, so it removes it too: the disk holds nothing of the run.
      expect(readdirSync(mnt)).toEqual(['filler']);
    } finally {
      execFileSync('umount', [mnt]);
    }
  }, 90_000);
});
