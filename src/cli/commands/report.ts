import type { Command } from 'commander';
import { HerdError } from '../../errors.js';
import { REPORT_FORMATS } from '../names.js';
import { pathIn, type CliContext } from '../context.js';

interface ReportFlags {
  format: string;
  output?: string;
}

export function registerReport(program: Command, ctx: CliContext, setExit: (code: number) => void): void {
  program
    .command('report')
    .description('re-render a results.json as another format (to stdout, or to a file with -o)')
    .argument('<results>', 'a results.json written by herd run')
    .option('-f, --format <format>', `output format: ${REPORT_FORMATS.join(', ')}`, 'summary')
    .option('-o, --output <file>', 'write to this file (atomically) instead of stdout')
    .addHelpText(
      'after',
      `
Examples:
  $ herd report reports/20261121-054837-0e4c/results.json
  $ herd report reports/20261121-054837-0e4c/results.json --format html -o /tmp/report.html
  $ herd report results.json --format md >> "$GITHUB_STEP_SUMMARY"

Formats: summary (terminal), md (Markdown), csv (per-second timeline), junit (JUnit XML),
html (one self-contained page with charts), json (results.json, re-validated).
Exit codes: 0 rendered · 2 bad input (unreadable, foreign or unsupported results file, bad flag)`,
    )
    .action(async (path: string, f: ReportFlags) => {
      const [{ readResults }, { isReportFormat, renderFormat }, { PLAIN }, atomic, { painter }] = await Promise.all([
        import('../../results/read.js'),
        import('../../report/render.js'),
        import('../../report/summary.js'),
        import('../../util/atomic-write.js'),
        import('../output.js'),
      ]);
      const { ensureWritableFile, refuseOwnInput, writeFileAtomic } = atomic;
      if (!isReportFormat(f.format)) {
        throw new HerdError(
          'E_FLAG',
          `--format: expected one of ${REPORT_FORMATS.join(', ')}, got ${JSON.stringify(f.format)}`,
        );
      }
      const results = readResults(pathIn(ctx, path));
      if (f.output === undefined) {
        ctx.stdout.write(renderFormat(results, f.format, painter(ctx)));
      } else {
        const out = pathIn(ctx, f.output);
        refuseOwnInput(out, [pathIn(ctx, path)], 'rendered');
        ensureWritableFile(out, '-o');
        writeFileAtomic(out, renderFormat(results, f.format, PLAIN));
        ctx.stderr.write(`wrote ${f.format} to ${out}\n`);
      }
      setExit(0);
    });
}
