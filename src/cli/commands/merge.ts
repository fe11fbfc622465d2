import type { Command } from 'commander';
import { mergeResults } from '../../report/merge.js';
import { readResults } from '../../results/read.js';
import { renderSummary } from '../../report/summary.js';
import { assertNotFolder, ensureWritableFile, refuseOwnInput, writeFileAtomic } from '../../util/atomic-write.js';
import { newRunId } from '../../run/execute.js';
import { pathIn, type CliContext } from '../context.js';
import { painter } from '../output.js';

export function registerMerge(program: Command, ctx: CliContext, setExit: (code: number) => void): void {
  program
    .command('merge')
    .description('merge the results of sharded runs (--shard i/n) into one results.json, evaluating thresholds globally')
    .argument('<files...>', 'results.json of every shard')
    .requiredOption('-o, --output <file>', 'merged results.json to write')
    .option('-q, --quiet', 'do not print the merged summary')
    .addHelpText('after', '\nExample:\n  $ herd merge shards/*/*/results.json -o reports/merged/results.json')
    .action((files: string[], f: { output: string; quiet?: boolean }) => {
      const out = pathIn(ctx, f.output);
      assertNotFolder(out, '-o');
      refuseOwnInput(out, files.map((path) => pathIn(ctx, path)), 'merged');
      const inputs = files.map((path) => ({ path, results: readResults(pathIn(ctx, path)) }));
      const merged = mergeResults(inputs, `merged-${newRunId()}`);
      ensureWritableFile(out, '-o');
      writeFileAtomic(out, JSON.stringify(merged, null, 2) + '\n');
      if (!f.quiet) ctx.stdout.write(renderSummary(merged, painter(ctx)) + `\n\nmerged ${files.length} shards → ${out}\n`);
      setExit(merged.run.exitCode);
    });
}

