import type { Command } from 'commander';
import { Interrupt } from '../../run/interrupt.js';
import { parseSourceIps } from '../../util/source-ips.js';
import { HerdError } from '../../errors.js';
import type { Overrides } from '../../scenario/resolve.js';
import { TARGET_PROFILE_NAMES } from '../names.js';
import { pathIn, type CliContext } from '../context.js';
import { parseFlagListen, parseFlagNumber, parseFlagScale, parseFlagShard, parseFlagStartAt } from '../flags.js';

interface RunFlags {
  target?: string;
  targetProfile?: string;
  devices?: string;
  out: string;
  seed?: string;
  scale?: string;
  workers?: string;
  sourceIps?: string;
  maxHandshakes?: string;
  allowSaturated?: boolean;
  quiet?: boolean;
  shard?: string;
  startAt?: string;
  onWorkerFailure: string;
  preflight: boolean;
  /** false with --no-warm-up. */
  warmUp: boolean;
  allowUnreachable?: boolean;
  metricsPort?: string;
  webhookSink?: string;
  allowCommands?: boolean;
}

export function registerRun(program: Command, ctx: CliContext, setExit: (code: number) => void): void {
  program
    .command('run')
    .description('run a scenario and write reports/<run-id>/results.json')
    .argument('<scenario>', 'scenario file (YAML or JSON)')
    .option('--target <url>', 'target URL, overriding the scenario (e.g. mqtt://127.0.0.1:1883)')
    .option(
      '--target-profile <name>',
      `embedded target profile: ${TARGET_PROFILE_NAMES.join(', ')} (overrides the scenario)`,
    )
    .option('--devices <n>', 'number of devices, overriding the scenario (before --scale)')
    .option('--out <dir>', 'folder for reports', 'reports')
    .option('--seed <n>', 'seed for a reproducible plan (default: the scenario seed, or 1)')
    .option('--scale <x>', 'multiply devices and rates, e.g. 5 for the nightly 5x job')
    .option('--workers <n>', 'worker processes (default: one per core, fewer for small fleets)')
    .option('--source-ips <spec>', 'source addresses to spread connections over: list, range or CIDR')
    .option('--max-handshakes <n>', 'cap on handshakes in flight per worker (default: no cap, open model)')
    .option('--shard <i/n>', 'run only the i-th of n disjoint slices of the plan (merge them with herd merge)')
    .option(
      '--start-at <time>',
      'ISO 8601 time at which the run origin falls, so shards on several machines start together',
    )
    .option('--on-worker-failure <what>', 'when a worker process dies: abort or continue', 'abort')
    .option(
      '--no-preflight',
      'run even when preflight finds the plan does not fit this machine, and skip the one-connection reachability probe',
    )
    .option(
      '--allow-unreachable',
      'storm a target that refuses every connection anyway (the report counts the failures)',
    )
    .option(
      '--metrics-port <[host:]port>',
      'serve live Prometheus metrics at http://127.0.0.1:PORT/metrics while running (0 = a free port)',
    )
    .option(
      '--webhook-sink <[host:]port>',
      'count the messages the target forwards as HTTP POSTs to http://127.0.0.1:PORT/hook (the integrations path)',
    )
    .option(
      '--allow-commands',
      "run the scenario's declaredOutages commands (break/restore the target); without it such a scenario is refused",
    )
    .option('--allow-saturated', 'exit by thresholds even when the harness was the bottleneck')
    .option(
      '--no-warm-up',
      "start the storm without first warming herd's engine on its own loopback listeners (quicker start; herd spends more CPU per connection early on)",
    )
    .option('-q, --quiet', 'no live progress, summary only')
    .addHelpText(
      'after',
      `
Examples:
  $ herd run scenarios/quickstart.yaml
  $ herd run scenarios/quickstart.yaml --devices 5000 --out /tmp/reports
  $ herd run scenarios/quickstart.yaml --target mqtt://127.0.0.1:1883 --seed 7
  $ herd run scenarios/nightly-5x.yaml --scale 5 --shard 3/8 --start-at 2026-11-21T02:00:00Z --out shards/
  $ herd run telemetry.yaml --webhook-sink 8099   # the target forwards to http://127.0.0.1:8099/hook

--webhook-sink counts each forwarded message against the devices' own sent counts (webhook.lost,
webhook.lossRate in results.json and thresholds); host defaults to 127.0.0.1.

Exit codes: 0 passed · 1 a threshold failed · 2 bad input · 3 run failed or harness saturated · 130 interrupted`,
    )
    .action(async (scenario: string, f: RunFlags) => {
      const overrides: Overrides = {};
      if (f.target !== undefined) overrides.target = f.target;
      if (f.targetProfile !== undefined) {
        if (!(TARGET_PROFILE_NAMES as readonly string[]).includes(f.targetProfile)) {
          throw new HerdError(
            'E_FLAG',
            `--target-profile: expected ${TARGET_PROFILE_NAMES.join(', ')}, got ${JSON.stringify(f.targetProfile)}`,
          );
        }
        if (f.target !== undefined && f.target !== 'embedded') {
          throw new HerdError(
            'E_FLAG',
            '--target-profile: applies only to the embedded target, but --target names another one',
          );
        }
        overrides.targetProfile = f.targetProfile;
      }
      if (f.devices !== undefined)
        overrides.devices = parseFlagNumber(f.devices, '--devices', { min: 1, max: 10_000_000 });
      if (f.seed !== undefined) overrides.seed = parseFlagNumber(f.seed, '--seed', { min: 0, max: 2 ** 32 - 1 });
      if (f.scale !== undefined) overrides.scale = parseFlagScale(f.scale);
      if (f.target !== undefined && f.target !== 'embedded') {
        // Validated here too so a bad flag is named as a flag.
        const { parseTargetUrl } = await import('../../util/target-url.js');
        parseTargetUrl(f.target, '--target');
      }
      const workers =
        f.workers === undefined ? undefined : parseFlagNumber(f.workers, '--workers', { min: 1, max: 256 });
      const maxHandshakes =
        f.maxHandshakes === undefined
          ? 0
          : parseFlagNumber(f.maxHandshakes, '--max-handshakes', { min: 1, max: 1_000_000 });
      const sourceIps = f.sourceIps === undefined ? [] : parseSourceIps(f.sourceIps);
      if (f.onWorkerFailure !== 'abort' && f.onWorkerFailure !== 'continue') {
        throw new HerdError(
          'E_FLAG',
          `--on-worker-failure: expected abort or continue, got ${JSON.stringify(f.onWorkerFailure)}`,
        );
      }
      const onWorkerFailure: 'abort' | 'continue' = f.onWorkerFailure;
      const shard = f.shard === undefined ? { index: 0, count: 1 } : parseFlagShard(f.shard);
      const startAtMs = f.startAt === undefined ? null : parseFlagStartAt(f.startAt, ctx.wallClockMs());
      const { ProgressPrinter } = await import('../progress.js');
      const progress = f.quiet ? null : new ProgressPrinter(ctx);
      // Subscribed before anything starts: a Ctrl-C while the target starts still ends in a report.
      const interrupt = new Interrupt();
      const unsubscribe = ctx.onSignal((sig) => {
        progress?.notice(`${sig} received: stopping (again to force)`);
        if (!progress) ctx.stderr.write(`${sig} received: stopping (again to force)\n`);
        interrupt.request(`interrupted by ${sig}`);
      });
      try {
        // The run's code loads only now (herd --help and the other commands never pay for it); a
        // Ctrl-C while it loads reaches the handler above and ends in a report marked aborted.
        const { executeRun } = await import('../../run/execute.js');
        const report = await executeRun(
          {
            scenarioPath: pathIn(ctx, scenario),
            cwd: ctx.cwd,
            overrides,
            outDir: pathIn(ctx, f.out),
            workers,
            sourceIps,
            maxHandshakesInFlight: maxHandshakes,
            allowSaturated: f.allowSaturated === true,
            shard,
            startAtMs,
            stepSummaryPath: ctx.env.GITHUB_STEP_SUMMARY ? pathIn(ctx, ctx.env.GITHUB_STEP_SUMMARY) : null,
            onWorkerFailure,
            skipPreflight: !f.preflight,
            allowUnreachable: f.allowUnreachable === true,
            metrics: f.metricsPort === undefined ? null : parseFlagListen(f.metricsPort, '--metrics-port'),
            webhookSink: f.webhookSink === undefined ? null : parseFlagListen(f.webhookSink, '--webhook-sink'),
            allowCommands: f.allowCommands === true,
            native: ctx.env.HERD_NATIVE !== '0',
            warmUp: f.warmUp !== false,
          },
          {
            onStart: (stop, info) => {
              progress?.start(info);
              interrupt.attach(stop);
            },
            onSecond: (ev) => progress?.second(ev),
            onNotice: (m) => (progress ? progress.notice(m) : ctx.stderr.write(m + '\n')),
          },
        );
        progress?.end();
        const [{ renderSummary }, { painter }] = await Promise.all([
          import('../../report/summary.js'),
          import('../output.js'),
        ]);
        ctx.stdout.write(renderSummary(report.results, painter(ctx)) + '\n');
        ctx.stdout.write(`\nresults: ${report.resultsPath}\n`);
        setExit(report.results.run.exitCode);
      } catch (err) {
        progress?.end();
        if (err instanceof HerdError) throw err;
        throw err;
      } finally {
        unsubscribe();
      }
    });
}
