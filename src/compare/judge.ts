/**
 * The verdict on one metric (pure). A change is worse (or better) only when it clears three bars:
 * the tolerance (relative, or absolute in the metric's unit), the noise floor (the largest of the
 * histogram's precision, the floor of that kind of metric, the harness's own schedule lag at that
 * percentile, and the spread between runs of one side), and a significance test at the stated
 * confidence (quantile test for percentiles, two-proportion z-test for shares). Neutral metrics,
 * context counts, single-sample extremes (unless asked) and percentiles with too few samples
 * beyond them are shown, not judged.
 */
import { largestFloor, MIN_TAIL_SAMPLES, precisionFloorUs, staticFloor, type Floor } from './floors.js';
import type { SideMetric } from './side.js';
import { formatUs } from '../util/duration.js';
import type { ComparisonClustering } from './blocks.js';
import { quantileTest, spread, tTwoSidedP, twoProportionTest, type Clustering } from './stats.js';
import type { Tolerance } from './tolerance.js';

/**
 * better/worse: beyond all three bars; within: changed, but not beyond them (noise); same:
 * identical; info: shown, not judged; n/a: a side has no samples.
 */
export type RowStatus = 'better' | 'worse' | 'within' | 'same' | 'info' | 'n/a';

export interface SignificanceTest {
  name: 'quantile' | 'two-proportion';
  /** The statistic as if samples were independent. */
  z: number;
  /** Variance inflation for samples grouped in seconds (1 = none found) and the degrees of freedom it rests on. */
  designEffect: number;
  df: number;
  /** z / √designEffect, read against Student's t with df degrees of freedom. */
  t: number;
  /** Two-sided. */
  p: number;
}

export interface Judgement {
  /** candidate − base, or null when either side has no number. */
  change: number | null;
  /** (candidate − base) / |base|; null when either side has no number or base is 0 and candidate is not. */
  relativeChange: number | null;
  status: RowStatus;
  floor: Floor | null;
  test: SignificanceTest | null;
  /** Why this status, in words: which bar a change did not clear, or why it is not judged. */
  reason: string;
}

export interface JudgeOptions {
  tolerance: Tolerance;
  /** e.g. 0.99: a change is significant when its two-sided p-value is below 1 − confidence. */
  confidence: number;
  judgeMax: boolean;
  /** The harness's own schedule lag at each percentile, the larger of the two sides (µs), when known. */
  harnessLagUs?: Readonly<Record<string, number>>;
  /** How much the runs' seconds group their samples, when the timelines tell. */
  clustering?: ComparisonClustering;
}

const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;

function aggregationOf(key: string): string {
  return key.slice(key.lastIndexOf('.') + 1);
}

function floorFor(base: SideMetric, cand: SideMetric, o: JudgeOptions): Floor {
  const agg = aggregationOf(base.key);
  const recovery = base.group.startsWith('recovery.');
  const values = [base.value ?? 0, cand.value ?? 0];
  const lag = base.group.startsWith('connect.') || base.group.startsWith('phase.') ? o.harnessLagUs?.[agg] : undefined;
  return largestFloor([
    base.unit === 'us'
      ? { amount: precisionFloorUs(...values), why: 'histogram precision (3 significant digits)' }
      : null,
    staticFloor(base.unit, agg, recovery),
    lag === undefined ? null : { amount: lag, why: `harness schedule lag ${agg}` },
    base.perRun.length > 1
      ? {
          amount: spread(base.perRun.filter((v): v is number => v !== null)),
          why: `spread of the ${base.perRun.length} base runs`,
        }
      : null,
    cand.perRun.length > 1
      ? {
          amount: spread(cand.perRun.filter((v): v is number => v !== null)),
          why: `spread of the ${cand.perRun.length} candidate runs`,
        }
      : null,
  ]);
}

const ATTEMPT_GROUPS = new Set(['errors', 'shedding', 'harness']);
const NO_CLUSTERING: Clustering = { designEffect: 1, df: Infinity };

function adjusted(name: SignificanceTest['name'], z: number, c: Clustering): SignificanceTest {
  const t = z / Math.sqrt(c.designEffect);
  return { name, z, designEffect: c.designEffect, df: c.df, t, p: tTwoSidedP(t, c.df) };
}

function testFor(base: SideMetric, cand: SideMetric, o: JudgeOptions): SignificanceTest | null {
  if (
    base.kind === 'share' &&
    base.x !== undefined &&
    base.n !== undefined &&
    cand.x !== undefined &&
    cand.n !== undefined
  ) {
    const t = twoProportionTest(base.x, base.n, cand.x, cand.n);
    const c = ATTEMPT_GROUPS.has(base.group) ? o.clustering?.attempts : undefined;
    return t === null ? null : adjusted('two-proportion', t.z, c ?? NO_CLUSTERING);
  }
  if (base.kind === 'percentile' && base.dist !== undefined && cand.dist !== undefined) {
    const t = quantileTest(base.dist(), cand.dist(), base.percentile ?? 50);
    const c = base.group.startsWith('recovery.') ? undefined : o.clustering?.latency[aggregationOf(base.key)];
    return t === null ? null : adjusted('quantile', t.z, c ?? NO_CLUSTERING);
  }
  return null;
}

/**
 * What the relative tolerance is measured against: the base value, or for a success share its
 * complement, the failures (100% → 98% is failures from none to 2%, not "2% worse").
 */
function toleranceReference(base: SideMetric, b: number): number {
  return base.kind === 'share' && base.direction === 'higher' ? 1 - b : b;
}

/** From zero, any change is infinitely large relative to the base. */
function beyondTolerance(worseBy: number, reference: number, tol: Tolerance): boolean {
  if (tol.kind !== 'relative') return Math.abs(worseBy) > tol.amount + 1e-12;
  return reference === 0 ? true : Math.abs(worseBy) / Math.abs(reference) > tol.fraction + 1e-12;
}

export function judgeMetric(base: SideMetric, cand: SideMetric, o: JudgeOptions): Judgement {
  const none = { floor: null, test: null };
  if (base.never || cand.never) {
    if (base.never && cand.never)
      return { change: null, relativeChange: null, status: 'same', ...none, reason: 'never reached in either' };
    // "Never recovered" against a number is a change no tolerance covers.
    const worse = cand.never;
    return {
      change: null,
      relativeChange: null,
      status: worse ? 'worse' : 'better',
      ...none,
      reason: worse ? 'the candidate never got there' : 'the base never got there',
    };
  }
  const b = base.value;
  const c = cand.value;
  if (b === null || c === null) {
    return {
      change: null,
      relativeChange: null,
      status: 'n/a',
      ...none,
      reason: b === null && c === null ? 'no samples' : `no samples in the ${b === null ? 'base' : 'candidate'}`,
    };
  }
  const change = c - b;
  const relativeChange = b === 0 ? (c === 0 ? 0 : null) : change / Math.abs(b);
  const at = { change, relativeChange };
  if (change === 0) return { ...at, status: 'same', ...none, reason: 'identical' };
  if (base.direction === 'neutral')
    return { ...at, status: 'info', ...none, reason: `not judged: ${base.notJudged ?? 'neutral'}` };
  if (base.kind === 'count') return { ...at, status: 'info', ...none, reason: 'not judged: context' };
  if (base.kind === 'extreme' && !o.judgeMax)
    return { ...at, status: 'info', ...none, reason: 'not judged: a single sample (--judge-max judges it)' };
  if (base.kind === 'percentile') {
    const q = (base.percentile ?? 50) / 100;
    const tail = Math.floor(Math.min(base.samples, cand.samples) * (1 - q) + 1e-9);
    if (tail < MIN_TAIL_SAMPLES) {
      return {
        ...at,
        status: 'info',
        ...none,
        reason: `not judged: only ${tail} samples beyond ${aggregationOf(base.key)} (needs ${MIN_TAIL_SAMPLES} on each side)`,
      };
    }
  }
  const worseBy = base.direction === 'lower' ? change : -change;
  const word = worseBy > 0 ? 'worse' : 'better';
  const floor = floorFor(base, cand, o);
  const test = testFor(base, cand, o);
  const alpha = 1 - o.confidence;
  const judged = { ...at, floor, test };
  const reference = toleranceReference(base, b);
  if (!beyondTolerance(worseBy, reference, o.tolerance)) {
    const of = reference === b ? '' : ' of the failures';
    const by =
      o.tolerance.kind === 'relative' && reference !== 0 ? `${pct(Math.abs(worseBy / reference))}${of}` : 'the change';
    return { ...judged, status: 'within', reason: `${word} by ${by}, within the ${o.tolerance.text} tolerance` };
  }
  if (Math.abs(change) <= floor.amount)
    return { ...judged, status: 'within', reason: `${word}, but not beyond the ${floor.why}` };
  if (base.kind !== 'extreme') {
    if (test === null) return { ...judged, status: 'within', reason: `${word}, but there are no samples to test` };
    if (!(test.p < alpha) || Math.sign(test.t) !== Math.sign(change))
      return {
        ...judged,
        status: 'within',
        reason: `${word}, but not significant at ${pct(o.confidence)} (p = ${test.p.toPrecision(2)})`,
      };
  }
  const amount = base.unit === 'us' ? formatUs(floor.amount) : `${(floor.amount * 100).toFixed(2)}pp`;
  const significance =
    test === null
      ? ''
      : ` and ${pct(o.confidence)} significance (p ${test.p < 0.0001 ? '< 0.0001' : `= ${test.p.toPrecision(2)}`})`;
  return {
    ...judged,
    status: worseBy > 0 ? 'worse' : 'better',
    reason: `${word} beyond the ${o.tolerance.text} tolerance, the ${floor.why} (${amount})${significance}`,
  };
}
