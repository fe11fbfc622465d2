import type { Command } from 'commander';
import { executeRun } from '../../engine/execute.js';
import { renderSummary } from '../../report/summary.js';
import { parseSourceIps } from '../../util/source-ips.js';
import { HerdError } from '../../errors.js';
import type { CliContext } from '../context.js';
import { painter } from '../output.js';
import { ProgressPrinter } from '../progress.js';
import { parseFlagNumber, parseFlagScale } from '../flags.js';

interface RunFlags {
  target?: string;
  devices?: string;
  out: string;
  seed?: string;
  scale?: string;
  workers?: string;
  sourceIps?: string;
  maxHandshakes?: string;
  allowSaturated?: boolean;
  quiet?: boolean;
}

export function registerRun(program: Command, ctx: CliContext, setExit: (code: number) => void): void {
  program
    .command('run')
    .description('run a scenario and write reports/<run-id>/results.json')
    .argument('<scenario>', 'scenario file (YAML or JSON)')
    .option('--target <url>', 'target URL, overriding the scenario (e.g. mqtt://127.0.0.1:1883)')
    .option('--devices <n>', 'number of devices, overriding the scenario (before --scale)')
    .option('--out <dir>', 'folder for reports', 'reports')
    .option('--seed <n>', 'seed for a reproducible plan (default: the scenario seed, or 1)')
    .option('--scale <x>', 'multiply devices and rates, e.g. 5 for the nightly 5x job')
    .option('--workers <n>', 'worker processes (default: one per core, fewer for small fleets)')
    .option('--source-ips <spec>', 'source addresses to spread connections over: list, range or CIDR')
    .option('--max-handshakes <n>', 'cap on handshakes in flight per worker (default: no cap, open model)')
    .option('--allow-saturated', 'exit by thresholds even when the harness was the bottleneck')
    .option('-q, --quiet', 'no live progress, summary only')
    .addHelpText(
      'after',
      `
Examples:
  $ herd run scenarios/quickstart.yaml
  $ herd run scenarios/quickstart.yaml --devices 5000 --out /tmp/reports
  $ herd run scenarios/quickstart.yaml --target mqtt://127.0.0.1:1883 --seed 7

Exit codes: 0 passed · 1 a threshold failed · 2 bad input · 3 run failed or harness saturated · 130 interrupted`,
    )
    .action(async (scenario: string, f: RunFlags) => {
      const overrides: { target?: string; devices?: number; seed?: number; scale?: number } = {};
      if (f.target !== undefined) overrides.target = f.target;
      if (f.devices !== undefined) overrides.devices = parseFlagNumber(f.devices, '--devices', { min: 1, max: 10_000_000 });
      if (f.seed !== undefined) overrides.seed = parseFlagNumber(f.seed, '--seed', { min: 0, max: 2 ** 32 - 1 });
      if (f.scale !== undefined) overrides.scale = parseFlagScale(f.scale);
      if (f.target !== undefined && f.target !== 'embedded') {
        // Validated here too so a bad flag is named as a flag.
        const { parseTargetUrl } = await import('../../scenario/target-url.js');
        parseTargetUrl(f.target, '--target');
      }
      const workers = f.workers === undefined ? undefined : parseFlagNumber(f.workers, '--workers', { min: 1, max: 256 });
      const maxHandshakes = f.maxHandshakes === undefined ? 0 : parseFlagNumber(f.maxHandshakes, '--max-handshakes', { min: 1, max: 1_000_000 });
      const sourceIps = f.sourceIps === undefined ? [] : parseSourceIps(f.sourceIps);
      const progress = f.quiet ? null : new ProgressPrinter(ctx);
      let unsubscribe: (() => void) | null = null;
      try {
        const report = await executeRun(
          {
            scenarioPath: scenario,
            overrides,
            outDir: f.out,
            workers,
            sourceIps,
            maxHandshakesInFlight: maxHandshakes,
            allowSaturated: f.allowSaturated === true,
          },
          {
            onStart: (stop, info) => {
              progress?.start(info);
              unsubscribe = ctx.onSignal((sig) => {
                progress?.notice(`${sig} received: stopping (again to force)`);
                stop(`interrupted by ${sig}`);
              });
            },
            onSecond: (ev) => progress?.second(ev),
            onNotice: (m) => (progress ? progress.notice(m) : ctx.stderr.write(m + '\n')),
          },
        );
        progress?.end();
        ctx.stdout.write(renderSummary(report.results, painter(ctx)) + '\n');
        ctx.stdout.write(`\nresults: ${report.resultsPath}\n`);
        setExit(report.results.run.exitCode);
      } catch (err) {
        progress?.end();
        if (err instanceof HerdError) throw err;
        throw err;
      } finally {
        (unsubscribe as (() => void) | null)?.();
      }
    });
}
