import type { Command } from 'commander';
import { join } from 'node:path';
import type { BreakpointRequest } from '../../run/breakpoint/execute.js';
import type { Spec } from '../../run/breakpoint/conditions.js';
import { parseSourceIps } from '../../util/source-ips.js';
import { HerdError } from '../../errors.js';
import { TARGET_PROFILE_NAMES } from '../names.js';
import { durationProblem, parseDurationUs } from '../../util/duration.js';
import { pathIn, type CliContext } from '../context.js';
import { parseFlagNumber } from '../flags.js';
import { Interrupt } from '../../run/interrupt.js';

interface BreakpointFlags {
  target?: string;
  targetProfile?: string;
  out: string;
  seed?: string;
  workers?: string;
  sourceIps?: string;
  maxHandshakes?: string;
  mode?: string;
  startDevices?: string;
  maxDevices?: string;
  arrivalRate?: string;
  startRate?: string;
  maxRate?: string;
  resolution?: string;
  maxLevels?: string;
  settle?: string;
  measure?: string;
  threshold: string[];
  preflight: boolean;
  quiet?: boolean;
}

function durationFlag(v: string | undefined, flag: string): string | undefined {
  if (v === undefined) return undefined;
  const problem = durationProblem(v);
  if (problem !== null) throw new HerdError('E_FLAG', `${flag}: ${problem}, got ${JSON.stringify(v)}`);
  // A level is judged on per-second counts: a fraction of a second would be misjudged.
  const us = parseDurationUs(v) as number;
  if (us < 1_000_000 || us % 1_000_000 !== 0) {
    throw new HerdError(
      'E_FLAG',
      `${flag}: expected whole seconds of at least 1s (a level is judged on per-second counts), got ${JSON.stringify(v)}`,
    );
  }
  return v;
}

export function registerBreakpoint(program: Command, ctx: CliContext, setExit: (code: number) => void): void {
  program
    .command('breakpoint')
    .description(
      'find the connect rate the target sustains: step up, then bisect; write breakpoint.json and breakpoint.html',
    )
    .argument('<scenario>', 'scenario file (YAML or JSON); its device settings and target are used, its waves are not')
    .option('--target <url>', 'target URL, overriding the scenario (e.g. mqtt://127.0.0.1:1883)')
    .option(
      '--target-profile <name>',
      `embedded target profile: ${TARGET_PROFILE_NAMES.join(', ')} (overrides the scenario)`,
    )
    .option('--out <dir>', 'folder for reports', 'reports')
    .option('--seed <n>', 'seed for reproducible plans')
    .option('--workers <n>', 'worker processes per level (default: one per core, fewer for small fleets)')
    .option('--source-ips <spec>', 'source addresses to spread connections over: list, range or CIDR')
    .option('--max-handshakes <n>', 'cap on handshakes in flight per worker (default: no cap, open model)')
    .option('--mode <mode>', 'connect-rate (default) or held-devices: search how many devices the target holds at once')
    .option('--start-devices <n>', 'held-devices: devices of the first level')
    .option('--max-devices <n>', 'held-devices: most devices tried')
    .option('--arrival-rate <n>', 'held-devices: connects/s at which the devices of each level arrive')
    .option('--start-rate <n>', 'connects/s of the first level (overrides breakpoint.startRate)')
    .option('--max-rate <n>', 'highest connects/s tried (overrides breakpoint.maxRate)')
    .option('--resolution <x>', 'bisect until the bracket is within this fraction, e.g. 0.1')
    .option('--max-levels <n>', 'most levels to run')
    .option('--settle <d>', 'start of each level excluded from its verdict, e.g. 2s')
    .option('--measure <d>', 'measured part of each level, e.g. 5s')
    .option(
      '--threshold <expr>',
      'CI threshold on the search, e.g. "breakpoint.rate >= 2000" (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option('--no-preflight', 'run levels even when preflight finds they do not fit this machine')
    .option('-q, --quiet', 'no per-level lines, summary only')
    .addHelpText(
      'after',
      `
Examples:
  $ herd breakpoint scenarios/breakpoint.yaml
  $ herd breakpoint scenarios/breakpoint.yaml --target-profile protected
  $ herd breakpoint scenarios/breakpoint.yaml --target mqtt://127.0.0.1:1883 --threshold "breakpoint.rate >= 2000"

Exit codes: 0 passed · 1 a threshold failed · 2 bad input · 3 the harness was the limit (or a level could not run) · 130 interrupted`,
    )
    .action(async (scenario: string, f: BreakpointFlags) => {
      const overrides: BreakpointRequest['overrides'] = {};
      if (f.target !== undefined) {
        if (f.target !== 'embedded') {
          const { parseTargetUrl } = await import('../../run/breakpoint/deps.js');
          parseTargetUrl(f.target, '--target');
        }
        overrides.target = f.target;
      }
      if (f.targetProfile !== undefined) {
        if (!(TARGET_PROFILE_NAMES as readonly string[]).includes(f.targetProfile)) {
          throw new HerdError(
            'E_FLAG',
            `--target-profile: expected ${TARGET_PROFILE_NAMES.join(', ')}, got ${JSON.stringify(f.targetProfile)}`,
          );
        }
        if (f.target !== undefined && f.target !== 'embedded')
          throw new HerdError(
            'E_FLAG',
            '--target-profile: applies only to the embedded target, but --target names another one',
          );
        overrides.targetProfile = f.targetProfile;
      }
      if (f.seed !== undefined) overrides.seed = parseFlagNumber(f.seed, '--seed', { min: 0, max: 2 ** 32 - 1 });
      const settings: BreakpointRequest['settings'] = {};
      if (f.mode !== undefined) {
        if (f.mode !== 'connect-rate' && f.mode !== 'held-devices')
          throw new HerdError('E_FLAG', `--mode: expected connect-rate or held-devices, got ${JSON.stringify(f.mode)}`);
        settings.mode = f.mode;
      }
      if (f.startDevices !== undefined)
        settings.startDevices = parseFlagNumber(f.startDevices, '--start-devices', { min: 1, max: 10_000_000 });
      if (f.maxDevices !== undefined)
        settings.maxDevices = parseFlagNumber(f.maxDevices, '--max-devices', { min: 1, max: 10_000_000 });
      if (f.arrivalRate !== undefined)
        settings.arrivalRate = parseFlagNumber(f.arrivalRate, '--arrival-rate', { min: 1, max: 1_000_000 });
      if (f.startRate !== undefined)
        settings.startRate = parseFlagNumber(f.startRate, '--start-rate', { min: 1, max: 1_000_000 });
      if (f.maxRate !== undefined)
        settings.maxRate = parseFlagNumber(f.maxRate, '--max-rate', { min: 1, max: 1_000_000 });
      if (f.maxLevels !== undefined)
        settings.maxLevels = parseFlagNumber(f.maxLevels, '--max-levels', { min: 1, max: 100 });
      if (f.resolution !== undefined) {
        const r = Number(f.resolution);
        if (!(r > 0 && r <= 1))
          throw new HerdError(
            'E_FLAG',
            `--resolution: expected a fraction greater than 0 and at most 1, got ${JSON.stringify(f.resolution)}`,
          );
        settings.resolution = r;
      }
      const settle = durationFlag(f.settle, '--settle');
      if (settle !== undefined) settings.settle = settle;
      const measure = durationFlag(f.measure, '--measure');
      if (measure !== undefined) settings.measure = measure;
      // The search's code loads only now (herd --help and the other commands never pay for it).
      const [{ executeBreakpoint }, { splitThresholdFlag }, { renderBreakpointSummary, renderLevelLine }, { painter }] =
        await Promise.all([
          import('../../run/breakpoint/execute.js'),
          import('../../run/breakpoint/conditions.js'),
          import('../../report/breakpoint-summary.js'),
          import('../output.js'),
        ]);
      const thresholds: Spec = {};
      for (const t of f.threshold) {
        const s = splitThresholdFlag(t);
        if (s === null)
          throw new HerdError(
            'E_FLAG',
            `--threshold: expected e.g. "breakpoint.rate >= 2000", got ${JSON.stringify(t)}`,
          );
        thresholds[s.metric] = [...((thresholds[s.metric] as string[] | undefined) ?? []), s.expression];
      }
      const p = painter(ctx);
      // Ctrl-C stops the level in progress and writes breakpoint.json with the levels done (exit 130).
      const interrupt = new Interrupt();
      const unsubscribe = ctx.onSignal((sig) => {
        ctx.stderr.write(`${sig} received: stopping the search after writing what it found (again to force)\n`);
        interrupt.request(`interrupted by ${sig}`);
      });
      let outcome: Awaited<ReturnType<typeof executeBreakpoint>>;
      try {
        outcome = await executeBreakpoint(
          {
            scenarioPath: pathIn(ctx, scenario),
            cwd: ctx.cwd,
            overrides,
            outDir: pathIn(ctx, f.out),
            settings,
            thresholds,
            run: {
              workers:
                f.workers === undefined ? undefined : parseFlagNumber(f.workers, '--workers', { min: 1, max: 256 }),
              sourceIps: f.sourceIps === undefined ? [] : parseSourceIps(f.sourceIps),
              maxHandshakesInFlight:
                f.maxHandshakes === undefined
                  ? 0
                  : parseFlagNumber(f.maxHandshakes, '--max-handshakes', { min: 1, max: 1_000_000 }),
              skipPreflight: !f.preflight,
              native: ctx.env.HERD_NATIVE !== '0',
            },
            wallClock: () => new Date(ctx.wallClockMs()),
            interrupt,
          },
          {
            onLevelStart: (i, rate, phase, mode) => {
              if (!f.quiet)
                ctx.stderr.write(`level ${i + 1}: ${phase} ${rate}${mode === 'held-devices' ? ' devices' : '/s'} …\n`);
            },
            onLevel: (l, mode) => {
              if (!f.quiet) ctx.stderr.write(renderLevelLine(l, undefined, mode) + '\n');
            },
            onNotice: (m) => {
              if (!f.quiet) ctx.stderr.write(m + '\n');
            },
          },
        );
      } finally {
        unsubscribe();
      }
      const { report, dir } = outcome;
      ctx.stdout.write(renderBreakpointSummary(report, p) + '\n');
      ctx.stdout.write(`\nbreakpoint: ${join(dir, 'breakpoint.json')}\nhtml: ${join(dir, 'breakpoint.html')}\n`);
      setExit(report.exitCode);
    });
}
