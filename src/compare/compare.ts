/**
 * `herd compare` as a pure function of results files: one or more runs per side, pooled; per
 * metric, base vs candidate judged against tolerance, noise floor and significance (judge.ts);
 * the configuration differences that matter; and a verdict. Runs of different scenarios are
 * refused unless allowed, with the reasons.
 */
import { HerdError } from '../errors.js';
import { formatUs } from '../util/duration.js';
import { comparisonClustering } from './blocks.js';
import { configurationDiff, scenarioDifferences, type ConfigItem } from './config.js';
import { judgeMetric, type Judgement, type RowStatus } from './judge.js';
import { compareMetrics, PERCENTILES, type CompareUnit, type Direction, type CompareKind } from './metrics.js';
import type { Results } from './results.js';
import { poolSide, type SideMetric } from './side.js';
import { toleranceFor, type Tolerance } from './tolerance.js';

export type { RowStatus } from './judge.js';

export interface CompareRow extends Judgement {
  key: string;
  group: string;
  unit: CompareUnit;
  direction: Direction;
  kind: CompareKind;
  definition: string;
  base: number | null;
  candidate: number | null;
  /** Each run's own value, per side. */
  baseRuns: (number | null)[];
  candidateRuns: (number | null)[];
  /** A recovery share never reached on that side (value null). */
  baseNever: boolean;
  candidateNever: boolean;
  tolerance: string;
}

export interface RunRef {
  path: string;
  runId: string;
  scenario: string;
  devices: number;
  target: string;
  startedAt: string;
  verdict: string;
}

export interface Comparison {
  base: RunRef[];
  candidate: RunRef[];
  /** Configuration of the two sides, differing items first. */
  configuration: ConfigItem[];
  /** Why the scenarios differ (empty when they match); non-empty only with allowDifferentScenarios. */
  scenarioDifferences: string[];
  notes: string[];
  defaultTolerance: string;
  confidence: number;
  rows: CompareRow[];
  regressions: string[];
  improvements: string[];
  verdict: 'passed' | 'regressed';
}

export interface CompareOptions {
  basePaths: string[];
  candidatePaths: string[];
  maxRegression: Tolerance;
  overrides: ReadonlyMap<string, Tolerance>;
  allowDifferentScenarios: boolean;
  /** Two-sided confidence of the significance tests, e.g. 0.99. */
  confidence: number;
  judgeMax: boolean;
}

function ref(r: Results, path: string): RunRef {
  return {
    path,
    runId: r.run.id,
    scenario: r.scenario.name,
    devices: r.scenario.devices,
    target: r.run.target,
    startedAt: r.run.startedAt,
    verdict: r.run.verdict,
  };
}

/** The harness's schedule lag per percentile: the larger side's pooled connect.scheduleLag. */
function harnessLag(b: Map<string, SideMetric>, c: Map<string, SideMetric>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [agg] of PERCENTILES) {
    const vs = [b, c]
      .map((m) => m.get(`connect.scheduleLag.${agg}`)?.value ?? null)
      .filter((v): v is number => v !== null);
    if (vs.length > 0) out[agg] = Math.max(...vs);
  }
  return out;
}

/** herd's own schedule lag says how busy the machine was; runs made at very different load are flagged. */
export const BUSIER_FACTOR = 2;
const BUSIER_MIN_US = 500;

function machineNote(b: Map<string, SideMetric>, c: Map<string, SideMetric>, embedded: boolean): string | null {
  const lb = b.get('connect.scheduleLag.p50')?.value ?? null;
  const lc = c.get('connect.scheduleLag.p50')?.value ?? null;
  if (lb === null || lc === null) return null;
  const [lo, hi] = lb < lc ? [lb, lc] : [lc, lb];
  if (hi - lo < BUSIER_MIN_US || hi < BUSIER_FACTOR * Math.max(lo, 1)) return null;
  const which = lc > lb ? 'candidate' : 'base';
  const why = embedded
    ? 'the embedded target shares this machine, so its latency changes may be the machine’s, not the target’s'
    : 'latency changes of that size may be the harness’s';
  return `the machine was busier during the ${which} run: herd’s own schedule lag p50 ${formatUs(lb)} → ${formatUs(lc)} (×${(hi / Math.max(lo, 1)).toFixed(1)}); ${why} — compare several runs per side`;
}

function notesFor(base: readonly Results[], cand: readonly Results[]): string[] {
  const notes: string[] = [];
  for (const [label, runs] of [
    ['base', base],
    ['candidate', cand],
  ] as const) {
    runs.forEach((r, i) => {
      const which = runs.length > 1 ? `${label} run ${i + 1}` : `${label} run`;
      if (r.health.saturated)
        notes.push(
          `the ${which} was saturated (the harness was a bottleneck): its numbers describe herd as much as the target`,
        );
      if (r.run.status === 'aborted') notes.push(`the ${which} was aborted: ${r.run.abortReason ?? 'interrupted'}`);
      if (r.attempts.dropped > 0)
        notes.push(
          `the ${which}: herd could not start ${r.attempts.dropped} attempts in time (the harness's shortfall, not the target's)`,
        );
      if (!r.accounting.balanced) notes.push(`the ${which} does not account for every attempt: ${r.accounting.detail}`);
    });
  }
  return notes;
}

export function compareRuns(base: readonly Results[], cand: readonly Results[], o: CompareOptions): Comparison {
  if (base.length === 0 || cand.length === 0)
    throw new HerdError('E_FLAG', 'herd compare needs at least one base and one candidate results file');
  const b0 = base[0] as Results;
  const differences = [...new Set([...base.slice(1), ...cand].flatMap((r) => scenarioDifferences(b0, r)))];
  if (differences.length > 0 && !o.allowDifferentScenarios) {
    throw new HerdError(
      'E_COMPARE_SCENARIO',
      `${[...o.basePaths, ...o.candidatePaths].join(', ').replace(/, ([^,]*)$/, ' and $1')} are runs of different scenarios, so their numbers are not comparable (pass --allow-different-scenarios to compare anyway)`,
      differences,
    );
  }
  const bm = poolSide(base.map(compareMetrics));
  const cm = poolSide(cand.map(compareMetrics));
  const keys = [...bm.keys(), ...[...cm.keys()].filter((k) => !bm.has(k))];

  const known = new Set<string>([...keys, ...keys.map((k) => (bm.get(k) ?? cm.get(k))?.group ?? '')]);
  const unknown = [...o.overrides.keys()].filter((k) => !known.has(k));
  if (unknown.length > 0) {
    throw new HerdError('E_FLAG', `--tolerance: unknown metric ${unknown.map((k) => JSON.stringify(k)).join(', ')}`, [
      `known metrics: ${keys.join(', ')}`,
    ]);
  }

  const harnessLagUs = harnessLag(bm, cm);
  const busier = machineNote(bm, cm, base.some((r) => r.run.embeddedTarget) || cand.some((r) => r.run.embeddedTarget));
  const clustering = comparisonClustering(base, cand);
  const rows: CompareRow[] = keys.map((key) => {
    const either = (bm.get(key) ?? cm.get(key)) as SideMetric;
    const tol = toleranceFor(key, either.group, o.overrides, o.maxRegression);
    if (tol.kind === 'absolute' && tol.unit !== either.unit) {
      const want =
        either.unit === 'us'
          ? 'a duration like 5ms'
          : either.unit === 'ratio'
            ? 'percentage points like 0.5pp'
            : 'a whole number';
      throw new HerdError(
        'E_FLAG',
        `--tolerance ${key}: ${JSON.stringify(tol.text)} does not fit this metric; use a percentage or ${want}`,
      );
    }
    const missing = (m: SideMetric): SideMetric => ({ ...m, value: null, never: false, perRun: [], samples: 0 });
    const b = bm.get(key) ?? missing(either);
    const c = cm.get(key) ?? missing(either);
    const j = judgeMetric(b, c, {
      tolerance: tol,
      confidence: o.confidence,
      judgeMax: o.judgeMax,
      harnessLagUs,
      clustering,
    });
    return {
      key,
      group: either.group,
      unit: either.unit,
      direction: either.direction,
      kind: either.kind,
      definition: either.definition,
      base: b.value,
      candidate: c.value,
      baseRuns: b.perRun,
      candidateRuns: c.perRun,
      baseNever: b.never,
      candidateNever: c.never,
      tolerance: tol.text,
      ...j,
    };
  });
  const regressions = rows.filter((r) => r.status === 'worse').map((r) => r.key);
  const improvements = rows.filter((r) => r.status === 'better').map((r) => r.key);
  return {
    base: base.map((r, i) => ref(r, o.basePaths[i] ?? '')),
    candidate: cand.map((r, i) => ref(r, o.candidatePaths[i] ?? '')),
    configuration: configurationDiff(base, cand, o.basePaths, o.candidatePaths),
    scenarioDifferences: differences,
    notes: [...(busier === null ? [] : [busier]), ...notesFor(base, cand)],
    defaultTolerance: o.maxRegression.text,
    confidence: o.confidence,
    rows,
    regressions,
    improvements,
    verdict: regressions.length > 0 ? 'regressed' : 'passed',
  };
}

/** Rows that moved beyond noise (worse first), the ones a reader should see first. */
export function movedRows(c: Comparison): CompareRow[] {
  const order: Partial<Record<RowStatus, number>> = { worse: 0, better: 1 };
  return c.rows
    .filter((r) => r.status === 'worse' || r.status === 'better')
    .sort((a, b) => (order[a.status] ?? 2) - (order[b.status] ?? 2));
}
