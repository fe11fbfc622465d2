import type { Command } from 'commander';
import { HerdError } from '../../errors.js';
import type { CompareFormat } from '../../compare/render.js';
import { COMPARE_FORMATS } from '../names.js';
import { pathIn, type CliContext } from '../context.js';

interface CompareFlags {
  candidate?: string[];
  format: string;
  output?: string;
  maxRegression: string;
  tolerance: string[];
  confidence: string;
  judgeMax?: boolean;
  allowDifferentScenarios?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** `a b` → base a, candidate b; `a b --candidate c d` → base a b, candidate c d. */
function sidesOf(files: string[], candidate: string[] | undefined): { basePaths: string[]; candidatePaths: string[] } {
  if (candidate !== undefined) {
    if (candidate.length === 0)
      throw new HerdError('E_FLAG', '--candidate: expected one or more results.json files of the candidate runs');
    return { basePaths: files, candidatePaths: candidate };
  }
  if (files.length !== 2) {
    throw new HerdError(
      'E_FLAG',
      `herd compare: expected two results files (base, candidate) or several base files followed by --candidate and the candidate files; got ${files.length} file${files.length === 1 ? '' : 's'} without --candidate`,
    );
  }
  return { basePaths: [files[0] as string], candidatePaths: [files[1] as string] };
}

export function registerCompare(program: Command, ctx: CliContext, setExit: (code: number) => void): void {
  program
    .command('compare')
    .description('compare runs of the same scenario: what moved beyond noise, with a verdict')
    .argument(
      '<results...>',
      'base.json candidate.json — or several base runs followed by --candidate and several candidate runs',
    )
    .option(
      '--candidate <results...>',
      'results.json files of the candidate runs (the positional files are then all base runs)',
    )
    .option('-f, --format <format>', `output format: ${COMPARE_FORMATS.join(', ')}`, 'text')
    .option('-o, --output <file>', 'write to this file (atomically) instead of stdout')
    .option(
      '--max-regression <tolerance>',
      'how much worse any metric may get: 10% relative, or an absolute like 5ms',
      '10%',
    )
    .option(
      '--tolerance <metric=tolerance>',
      'per-metric override, repeatable (e.g. connect.total.p99=20%, connect.total=5ms, errors.rate=0.5pp)',
      collect,
      [],
    )
    .option('--confidence <percent>', 'confidence of the significance tests (two-sided)', '99%')
    .option('--judge-max', 'also judge single-sample extremes (max, all recovered), which are otherwise shown only')
    .option('--allow-different-scenarios', 'compare runs whose scenario name, device count or waves differ')
    .addHelpText(
      'after',
      `
Examples:
  $ herd compare reports/a/results.json reports/b/results.json
  $ herd compare base1.json base2.json base3.json --candidate cand1.json cand2.json cand3.json
  $ herd compare base.json candidate.json --max-regression 5% --tolerance connect.total.p99=20%
  $ herd compare base.json candidate.json --format html -o comparison.html
  $ herd compare a/breakpoint.json b/breakpoint.json     # moved beyond the searches' resolution?

A metric is worse (or better) only when its change clears the tolerance, its noise floor (histogram
precision, the floor of its kind, the harness's own schedule lag, the spread between runs of a
side) and a significance test (quantile test for percentiles, two-proportion z-test for shares).
Maxima are shown, not judged, unless --judge-max. Deliberate shedding is its own category.
Exit codes: 0 no regression · 1 a metric regressed · 2 bad input (files, flags, or runs of
different scenarios without --allow-different-scenarios)`,
    )
    .action(async (files: string[], f: CompareFlags) => {
      if (!(COMPARE_FORMATS as readonly string[]).includes(f.format)) {
        throw new HerdError(
          'E_FLAG',
          `--format: expected one of ${COMPARE_FORMATS.join(', ')}, got ${JSON.stringify(f.format)}`,
        );
      }
      const format = f.format as CompareFormat;
      const { basePaths, candidatePaths } = sidesOf(files, f.candidate);
      // Loaded when the command runs, not when the CLI starts.
      const [{ readResults }, { compareRuns }, bp, renderMod, tolerance, { PLAIN }, atomic, { painter }] =
        await Promise.all([
          import('../../compare/results.js'),
          import('../../compare/compare.js'),
          import('../../compare/breakpoint.js'),
          import('../../compare/render.js'),
          import('../../compare/tolerance.js'),
          import('../../report/summary.js'),
          import('../../util/atomic-write.js'),
          import('../output.js'),
        ]);
      const { compareBreakpoints, looksLikeBreakpoint, readBreakpoint, renderBreakpointComparison } = bp;
      const { renderCompareHtml, renderComparison } = renderMod;
      const { parseConfidence, parseTolerance, parseToleranceOverrides } = tolerance;
      const { ensureWritableFile, refuseOwnInput, writeFileAtomic } = atomic;
      // Two breakpoint.json files: did the breakpoint move beyond the searches' resolution, and what tipped it.
      if (f.candidate === undefined && files.every((p) => looksLikeBreakpoint(pathIn(ctx, p)))) {
        const [a, b] = files as [string, string];
        const c = compareBreakpoints(readBreakpoint(pathIn(ctx, a)), readBreakpoint(pathIn(ctx, b)), [a, b]);
        const text = renderBreakpointComparison(c);
        if (f.output === undefined) ctx.stdout.write(text);
        else {
          const out = pathIn(ctx, f.output);
          refuseOwnInput(
            out,
            files.map((p) => pathIn(ctx, p)),
            'compared',
          );
          ensureWritableFile(out, '-o');
          writeFileAtomic(out, text);
          ctx.stderr.write(`wrote the breakpoint comparison to ${out}\n`);
        }
        setExit(c.verdict === 'moved-down' ? 1 : 0);
        return;
      }
      const maxRegression = parseTolerance(f.maxRegression, '--max-regression');
      const overrides = parseToleranceOverrides(f.tolerance);
      const confidence = parseConfidence(f.confidence, '--confidence');
      const base = basePaths.map((p) => readResults(pathIn(ctx, p)));
      const candidate = candidatePaths.map((p) => readResults(pathIn(ctx, p)));
      const comparison = compareRuns(base, candidate, {
        basePaths,
        candidatePaths,
        maxRegression,
        overrides,
        confidence,
        judgeMax: f.judgeMax === true,
        allowDifferentScenarios: f.allowDifferentScenarios === true,
      });
      const render = (plain: boolean): string =>
        format === 'html'
          ? renderCompareHtml(comparison, base, candidate)
          : renderComparison(comparison, format, plain ? PLAIN : painter(ctx));
      if (f.output === undefined) {
        ctx.stdout.write(render(false));
      } else {
        const out = pathIn(ctx, f.output);
        refuseOwnInput(
          out,
          [...basePaths, ...candidatePaths].map((p) => pathIn(ctx, p)),
          'compared',
        );
        ensureWritableFile(out, '-o');
        writeFileAtomic(out, render(true));
        ctx.stderr.write(`wrote ${format} comparison to ${out}\n`);
      }
      setExit(comparison.verdict === 'regressed' ? 1 : 0);
    });
}
