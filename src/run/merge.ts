/**
 * `herd merge`: combines the results of a run's shards into one results.json, exactly: each
 * shard's outcome is read back from its file, the outcomes merge
 * (histograms add, counters add per aligned second) and the run's own builder turns the merged
 * outcome into results, thresholds, health judgement and exit code included.
 */
import { mergeNameTallies, type NameTally } from '../results/names.js';
import { resolve } from 'node:path';
import { HerdError } from '../errors.js';
import { readResults } from '../results/read.js';
import type { CommandRecord, Results, TargetLag } from '../results/types.js';
import { parseThresholds } from '../scenario/threshold-parse.js';
import { assertNotFolder, ensureWritableFile, refuseOwnInput, writeFileAtomic } from '../util/atomic-write.js';
import { buildResults } from './build-results.js';
import { newRunId } from './execute.js';
import { mergeOutcomes } from './outcome-merge.js';
import { outcomeOfResults } from './outcome-of-results.js';
import { alignDeclared, commandShardOffsetMs } from './merge-declared.js';

export interface ShardFile {
  path: string;
  results: Results;
}

function problem(message: string, details: string[] = []): never {
  throw new HerdError('E_RESULTS_FILE', message, details);
}

function describeShard(x: ShardFile): string {
  const r = x.results;
  const shard = r.run.shard ? `${r.run.shard.index}/${r.run.shard.count}` : 'none';
  const s = r.scenario;
  return `${x.path}: scenario "${s.name}", seed ${s.seed}, ${s.devices} devices, scale ${s.scale}, shard ${shard}`;
}

/** Checks that the files are the complete, distinct shards of one run of one scenario. */
export function checkShards(inputs: readonly ShardFile[]): void {
  const first = inputs[0];
  if (first === undefined) problem('no results files to merge');
  const key = (r: Results): string =>
    JSON.stringify([r.scenario.name, r.scenario.seed, r.scenario.devices, r.scenario.scale, r.run.shard?.count ?? 1]);
  if (inputs.some((x) => key(x.results) !== key(first.results))) {
    problem(
      'the files are not shards of the same run (scenario, seed, devices, scale and shard count must match)',
      inputs.map(describeShard),
    );
  }
  const count = first.results.run.shard?.count ?? 1;
  const seen = new Map<number, string>();
  const details: string[] = [];
  for (const x of inputs) {
    const i = x.results.run.shard?.index ?? 1;
    const other = seen.get(i);
    if (other !== undefined) details.push(`shard ${i}/${count} appears twice: ${other} and ${x.path}`);
    seen.set(i, x.path);
  }
  for (let i = 1; i <= count; i++) if (!seen.has(i)) details.push(`shard ${i}/${count} is missing`);
  if (details.length > 0) problem(`cannot merge: the shards of ${count} are not each present exactly once`, details);
}

/** Each shard's embedded target reports its own lag: the merged run keeps the worst, and every late tick. */
function worstLag(lags: readonly (TargetLag | null)[]): TargetLag | null {
  const present = lags.filter((l): l is TargetLag => l !== null);
  if (present.length === 0) return null;
  return {
    boundMs: Math.max(...present.map((l) => l.boundMs)),
    maxMs: Math.max(...present.map((l) => l.maxMs)),
    overBoundTotal: present.reduce((a, l) => a + l.overBoundTotal, 0),
    busySeconds: Math.max(...present.map((l) => l.busySeconds)),
  };
}

/** The merged results of a run's shards (pure: results in, results out). */
export function mergeResults(inputs: readonly ShardFile[], mergedId: string): Results {
  checkShards(inputs);
  const sorted = [...inputs].sort((a, b) => (a.results.run.shard?.index ?? 1) - (b.results.run.shard?.index ?? 1));
  const all = sorted.map((x) => x.results);
  const first = all[0] as Results;
  const parsed = parseThresholds(first.scenario.thresholds);
  if (parsed.problems.length > 0)
    problem(`${sorted[0]?.path}: the scenario's thresholds do not parse`, parsed.problems);
  const refOffsetMs = commandShardOffsetMs(all);
  return buildResults({
    runId: mergedId,
    shard: null,
    mergedFrom: all.map((r) => r.run.id),
    scenario: first.scenario,
    thresholds: parsed.thresholds,
    environment: first.environment,
    outcome: mergeOutcomes(all.map((r) => alignDeclared(outcomeOfResults(r), r, refOffsetMs))),
    target: first.run.target,
    embeddedTarget: first.run.embeddedTarget,
    allowSaturated: all.every((r) => r.run.allowSaturated),
    maxHandshakesPerWorker: first.run.maxHandshakesPerWorker,
    embeddedTargetKnobs: first.run.embeddedTargetKnobs,
    sharesMachine: all.some((r) => r.run.sharesMachine),
    targetLag: worstLag(all.map((r) => r.run.targetLag)),
    // Each shard's embedded target counted its own drops: together they dropped the sum.
    targetDropped: all.some((r) => (r.delivery?.targetDropped ?? null) === null)
      ? null
      : all.reduce((n, r) => n + (r.delivery?.targetDropped ?? 0), 0),
    engines: mergedEngines(all.map((r) => r.run.engines)),
    names: all.reduce<NameTally[]>((n, r) => mergeNameTallies(n, r.run.names), []),
    // The shards' own setting when they agree; otherwise not one thing (null).
    warmUp: all.every((r) => r.run.warmUp === first.run.warmUp) ? first.run.warmUp : null,
    commands: mergedCommands(all),
  });
}

/** Each declared outage's command records from the shard that ran them (shard 1); else as the shards recorded them. */
export function mergedCommands(shards: readonly Results[]): Record<string, CommandRecord[]> {
  const out: Record<string, CommandRecord[]> = {};
  for (const r of shards)
    for (const o of r.outages) {
      if (o.side !== 'declared' || o.commands === undefined) continue;
      const ran = o.commands.some((c) => c.outcome !== 'other-shard');
      if (out[o.name] === undefined || ran) out[o.name] = o.commands;
    }
  return out;
}

/** Each cohort's connect path over the shards: the same everywhere, else mixed; null when a shard did not record it. */
export function mergedEngines(shards: readonly Results['run']['engines'][]): Results['run']['engines'] {
  const out: NonNullable<Results['run']['engines']> = {};
  for (const e of shards) {
    if (e === null) return null;
    for (const [cohort, k] of Object.entries(e))
      out[cohort] = out[cohort] === undefined || out[cohort] === k ? k : 'mixed';
  }
  return out;
}

export interface MergeRequest {
  /** results.json of every shard, and the merged file to write, relative to cwd. */
  files: readonly string[];
  output: string;
  cwd: string;
}

export interface MergeReport {
  results: Results;
  /** Where the merged results.json was written. */
  outPath: string;
}

/** Reads every shard, merges them and writes the merged results.json (nothing written on bad input). */
export function mergeShards(req: MergeRequest): MergeReport {
  const outPath = resolve(req.cwd, req.output);
  assertNotFolder(outPath, '-o');
  refuseOwnInput(
    outPath,
    req.files.map((path) => resolve(req.cwd, path)),
    'merged',
  );
  const inputs = req.files.map((path) => ({ path, results: readResults(resolve(req.cwd, path)) }));
  const results = mergeResults(inputs, `merged-${newRunId()}`);
  ensureWritableFile(outPath, '-o');
  writeFileAtomic(outPath, JSON.stringify(results, null, 2) + '\n');
  return { results, outPath };
}
