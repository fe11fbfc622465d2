/**
 * `herd compare` as a pure function of two results files: per metric, base vs candidate with the
 * absolute and relative change, judged against a tolerance in the metric's better direction, and
 * a verdict. Runs of different scenarios are refused unless allowed, with the reasons.
 */
import { HerdError } from '../errors.js';
import type { Results } from '../results/types.js';
import { compareMetrics, type CompareUnit, type Direction, type MetricValue } from './metrics.js';
import { toleranceFor, type Tolerance } from './tolerance.js';
import { describeWave } from '../report/labels.js';

/**
 * better/worse: changed beyond the tolerance; within: changed, but no more than the tolerance;
 * same: identical; info: a neutral metric that changed; n/a: a run has no samples for it.
 */
export type RowStatus = 'better' | 'worse' | 'within' | 'same' | 'info' | 'n/a';

export interface CompareRow {
  key: string;
  group: string;
  unit: CompareUnit;
  direction: Direction;
  base: number | null;
  candidate: number | null;
  /** candidate − base, or null when either side has no samples. */
  change: number | null;
  /** (candidate − base) / |base|; null when either side has no samples or base is 0 and candidate is not. */
  relativeChange: number | null;
  tolerance: string;
  status: RowStatus;
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
  base: RunRef;
  candidate: RunRef;
  /** Why the scenarios differ (empty when they match); non-empty only with allowDifferentScenarios. */
  scenarioDifferences: string[];
  notes: string[];
  defaultTolerance: string;
  rows: CompareRow[];
  regressions: string[];
  improvements: string[];
  verdict: 'passed' | 'regressed';
}

export interface CompareOptions {
  basePath: string;
  candidatePath: string;
  maxRegression: Tolerance;
  overrides: ReadonlyMap<string, Tolerance>;
  allowDifferentScenarios: boolean;
}

/** Why two runs are not runs of the same scenario; empty when they are. */
export function scenarioDifferences(base: Results, cand: Results): string[] {
  const out: string[] = [];
  const a = base.scenario;
  const b = cand.scenario;
  if (a.name !== b.name) out.push(`scenario name differs: ${JSON.stringify(a.name)} vs ${JSON.stringify(b.name)}`);
  if (a.devices !== b.devices) out.push(`device count differs: ${a.devices} vs ${b.devices}`);
  if (JSON.stringify(a.waves) !== JSON.stringify(b.waves)) {
    const describe = (s: Results['scenario']): string => s.waves.map((w) => `${w.name}: ${describeWave(w)}`).join('; ');
    out.push(`waves differ: ${describe(a)} vs ${describe(b)}`);
  }
  return out;
}

function ref(r: Results, path: string): RunRef {
  return { path, runId: r.run.id, scenario: r.scenario.name, devices: r.scenario.devices, target: r.run.target, startedAt: r.run.startedAt, verdict: r.run.verdict };
}

/** Judges one metric. Exported for tests. */
export function judge(direction: Direction, unit: CompareUnit, base: number | null, cand: number | null, tol: Tolerance): Pick<CompareRow, 'change' | 'relativeChange' | 'status'> {
  if (base === null || cand === null) return { change: null, relativeChange: null, status: 'n/a' };
  const change = cand - base;
  const relativeChange = base === 0 ? (cand === 0 ? 0 : null) : change / Math.abs(base);
  if (change === 0) return { change, relativeChange, status: 'same' };
  if (direction === 'neutral') return { change, relativeChange, status: 'info' };
  const worseBy = direction === 'lower' ? change : -change;
  let beyond: boolean;
  if (tol.kind === 'relative') {
    // From zero, any change is infinitely large relative to the base.
    beyond = base === 0 ? true : Math.abs(worseBy) / Math.abs(base) > tol.fraction + 1e-12;
  } else {
    if (tol.unit !== unit) throw new Error(`internal: tolerance unit ${tol.unit} applied to a ${unit} metric`);
    beyond = Math.abs(worseBy) > tol.amount + 1e-12;
  }
  if (!beyond) return { change, relativeChange, status: 'within' };
  return { change, relativeChange, status: worseBy > 0 ? 'worse' : 'better' };
}

export function compareRuns(base: Results, cand: Results, o: CompareOptions): Comparison {
  const differences = scenarioDifferences(base, cand);
  if (differences.length > 0 && !o.allowDifferentScenarios) {
    throw new HerdError(
      'E_COMPARE_SCENARIO',
      `${o.basePath} and ${o.candidatePath} are runs of different scenarios, so their numbers are not comparable (pass --allow-different-scenarios to compare anyway)`,
      differences,
    );
  }
  const bm = compareMetrics(base);
  const cm = compareMetrics(cand);
  const byKey = (list: MetricValue[]): Map<string, MetricValue> => new Map(list.map((m) => [m.key, m]));
  const bk = byKey(bm);
  const ck = byKey(cm);
  const keys = [...bm.map((m) => m.key), ...cm.map((m) => m.key).filter((k) => !bk.has(k))];

  const known = new Set<string>([...keys, ...keys.map((k) => (bk.get(k) ?? ck.get(k))?.group ?? '')]);
  const unknown = [...o.overrides.keys()].filter((k) => !known.has(k));
  if (unknown.length > 0) {
    throw new HerdError('E_FLAG', `--tolerance: unknown metric ${unknown.map((k) => JSON.stringify(k)).join(', ')}`, [`known metrics: ${keys.join(', ')}`]);
  }

  const rows: CompareRow[] = keys.map((key) => {
    const m = (bk.get(key) ?? ck.get(key)) as MetricValue;
    const tol = toleranceFor(key, m.group, o.overrides, o.maxRegression);
    if (tol.kind === 'absolute' && tol.unit !== m.unit) {
      const want = m.unit === 'us' ? 'a duration like 5ms' : m.unit === 'ratio' ? 'percentage points like 0.5pp' : 'a whole number';
      throw new HerdError('E_FLAG', `--tolerance ${key}: ${JSON.stringify(tol.text)} does not fit this metric; use a percentage or ${want}`);
    }
    const b = bk.get(key)?.value ?? null;
    const c = ck.get(key)?.value ?? null;
    const row = { key, group: m.group, unit: m.unit, direction: m.direction, base: b, candidate: c, tolerance: tol.text };
    // "Never recovered" against a number is a change no tolerance covers.
    const inBoth = bk.has(key) && ck.has(key);
    if (m.nullIsNever === true && inBoth && (b === null) !== (c === null)) {
      return { ...row, change: null, relativeChange: null, status: c === null ? 'worse' : 'better' };
    }
    return { ...row, ...judge(m.direction, m.unit, b, c, tol) };
  });

  const notes: string[] = [];
  if (base.run.target !== cand.run.target) notes.push(`targets differ: ${base.run.target} vs ${cand.run.target}`);
  if (base.scenario.seed !== cand.scenario.seed) notes.push(`seeds differ: ${base.scenario.seed} vs ${cand.scenario.seed}`);
  for (const [label, r] of [['base', base], ['candidate', cand]] as const) {
    if (r.health.saturated) notes.push(`the ${label} run was saturated (the harness was a bottleneck): its numbers describe herd as much as the target`);
    if (r.run.status === 'aborted') notes.push(`the ${label} run was aborted: ${r.run.abortReason ?? 'interrupted'}`);
  }
  const regressions = rows.filter((r) => r.status === 'worse').map((r) => r.key);
  const improvements = rows.filter((r) => r.status === 'better').map((r) => r.key);
  return {
    base: ref(base, o.basePath),
    candidate: ref(cand, o.candidatePath),
    scenarioDifferences: differences,
    notes,
    defaultTolerance: o.maxRegression.text,
    rows,
    regressions,
    improvements,
    verdict: regressions.length > 0 ? 'regressed' : 'passed',
  };
}
