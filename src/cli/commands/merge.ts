import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function registerMerge(program: Command, ctx: CliContext, setExit: (code: number) => void): void {
  program
    .command('merge')
    .description(
      'merge the results of sharded runs (--shard i/n) into one results.json, evaluating thresholds globally',
    )
    .argument('<files...>', 'results.json of every shard')
    .requiredOption('-o, --output <file>', 'merged results.json to write')
    .option('-q, --quiet', 'do not print the merged summary')
    .addHelpText('after', '\nExample:\n  $ herd merge shards/*/*/results.json -o reports/merged/results.json')
    .action(async (files: string[], f: { output: string; quiet?: boolean }) => {
      const [{ mergeShards }, { renderSummary }, { painter }] = await Promise.all([
        import('../../run/merge.js'),
        import('../../report/summary.js'),
        import('../output.js'),
      ]);
      const { results, outPath } = mergeShards({ files, output: f.output, cwd: ctx.cwd });
      if (!f.quiet)
        ctx.stdout.write(renderSummary(results, painter(ctx)) + `\n\nmerged ${files.length} shards → ${outPath}\n`);
      setExit(results.run.exitCode);
    });
}
