import type { Command } from 'commander';
import { HerdError } from '../../errors.js';
import { readResults } from '../../results/read.js';
import { compareRuns } from '../../compare/compare.js';
import { COMPARE_FORMATS, renderComparison, type CompareFormat } from '../../compare/render.js';
import { parseTolerance, parseToleranceOverrides } from '../../compare/tolerance.js';
import type { CliContext } from '../context.js';
import { painter } from '../output.js';

interface CompareFlags {
  format: string;
  maxRegression: string;
  tolerance: string[];
  allowDifferentScenarios?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerCompare(program: Command, ctx: CliContext, setExit: (code: number) => void): void {
  program
    .command('compare')
    .description('compare two runs of the same scenario: what got better and worse, with a verdict')
    .argument('<base>', 'results.json of the baseline run')
    .argument('<candidate>', 'results.json of the run to judge')
    .option('-f, --format <format>', `output format: ${COMPARE_FORMATS.join(', ')}`, 'text')
    .option('--max-regression <tolerance>', 'how much worse any metric may get: 10% relative, or an absolute like 5ms', '10%')
    .option('--tolerance <metric=tolerance>', 'per-metric override, repeatable (e.g. connect.total.p99=20%, connect.total=5ms, errors.rate=0.5pp)', collect, [])
    .option('--allow-different-scenarios', 'compare runs whose scenario name, device count or waves differ')
    .addHelpText(
      'after',
      `
Examples:
  $ herd compare reports/a/results.json reports/b/results.json
  $ herd compare base.json candidate.json --max-regression 5% --tolerance connect.total.p99=20%
  $ herd compare base.json candidate.json --format md > comparison.md

Latency (p50/p90/p99/max per phase) and errors are better when lower; successes when higher.
Exit codes: 0 no regression · 1 a metric regressed beyond its tolerance · 2 bad input (files,
flags, or runs of different scenarios without --allow-different-scenarios)`,
    )
    .action((basePath: string, candidatePath: string, f: CompareFlags) => {
      if (!(COMPARE_FORMATS as readonly string[]).includes(f.format)) {
        throw new HerdError('E_FLAG', `--format: expected one of ${COMPARE_FORMATS.join(', ')}, got ${JSON.stringify(f.format)}`);
      }
      const maxRegression = parseTolerance(f.maxRegression, '--max-regression');
      const overrides = parseToleranceOverrides(f.tolerance);
      const base = readResults(basePath);
      const candidate = readResults(candidatePath);
      const comparison = compareRuns(base, candidate, {
        basePath,
        candidatePath,
        maxRegression,
        overrides,
        allowDifferentScenarios: f.allowDifferentScenarios === true,
      });
      ctx.stdout.write(renderComparison(comparison, f.format as CompareFormat, painter(ctx)));
      setExit(comparison.verdict === 'regressed' ? 1 : 0);
    });
}
