/**
 * Stop conditions of a level and CI thresholds on a search, in herd's threshold grammar (pure).
 * Stop conditions name herd's own metrics plus `shed.rate`; thresholds name `breakpoint.rate`.
 * The extra metrics are parsed as their kind's stand-in so the grammar, units and messages are
 * exactly those of `thresholds:`.
 */
import { compareOp } from '../../thresholds/evaluate.js';
import { parseThresholds, type Threshold, type ThresholdResult } from './deps.js';

/** Extra metric → a herd metric of the same kind, used only to parse its expression. */
const STOP_EXTRAS: Record<string, string> = { 'shed.rate': 'errors.rate' };
const SEARCH_METRICS: Record<string, { standIn: string; description: string }> = {
  'breakpoint.rate': {
    standIn: 'attempts.succeeded',
    description: 'highest connect rate the target sustained, per second',
  },
  'breakpoint.levels': { standIn: 'attempts.succeeded', description: 'levels the search ran' },
};

export type Spec = Record<string, string | string[]>;

function parseWith(
  spec: Spec,
  extras: Record<string, string>,
  where: string,
): { thresholds: Threshold[]; problems: string[] } {
  const thresholds: Threshold[] = [];
  const problems: string[] = [];
  for (const [metric, raw] of Object.entries(spec)) {
    const list = Array.isArray(raw) ? raw : [raw];
    const standIn = extras[metric];
    const r = parseThresholds({ [standIn ?? metric]: list });
    // Messages say the metric the user wrote and where it sits in the scenario.
    const fix = (p: string): string => `${where}.${p.replace(/^thresholds\./, '').replace(standIn ?? metric, metric)}`;
    problems.push(...r.problems.map(fix));
    thresholds.push(...r.thresholds.map((t) => ({ ...t, metric })));
  }
  return { thresholds, problems };
}

export function parseStopWhen(spec: Spec): { thresholds: Threshold[]; problems: string[] } {
  return parseWith(spec, STOP_EXTRAS, 'breakpoint.stopWhen');
}

export function parseSearchThresholds(spec: Spec): { thresholds: Threshold[]; problems: string[] } {
  const unknown = Object.keys(spec).filter((k) => !Object.hasOwn(SEARCH_METRICS, k));
  const known = Object.fromEntries(Object.entries(spec).filter(([k]) => Object.hasOwn(SEARCH_METRICS, k)));
  const r = parseWith(
    known,
    Object.fromEntries(Object.entries(SEARCH_METRICS).map(([k, v]) => [k, v.standIn])),
    'breakpoint.thresholds',
  );
  const names = Object.keys(SEARCH_METRICS).join(', ');
  return {
    thresholds: r.thresholds,
    problems: [...unknown.map((k) => `breakpoint.thresholds.${k}: unknown metric; known: ${names}`), ...r.problems],
  };
}

/** `--threshold "breakpoint.rate >= 2000"`: the metric, then the expression. */
export function splitThresholdFlag(text: string): { metric: string; expression: string } | null {
  const m = /^\s*([a-zA-Z][\w.]*)\s*(.+)$/.exec(text);
  return m ? { metric: m[1] as string, expression: (m[2] as string).trim() } : null;
}

export function evaluateSearchThresholds(
  list: readonly Threshold[],
  values: Record<string, number | null>,
): ThresholdResult[] {
  return list.map((t) => {
    const observed = values[t.metric] ?? null;
    const passed = observed !== null && compareOp(observed, t.op, t.bound);
    return {
      metric: t.metric,
      expression: t.expression,
      passed,
      observed,
      observedText: observed === null ? 'no breakpoint found' : String(observed),
    };
  });
}

/**
 * Whether a failed search threshold could have passed had the harness not ended the search: the
 * target's real breakpoint then lies between the rate held (`observed`, or nothing) and `maxRate`,
 * so `breakpoint.rate >= 1000000` with maxRate 80 fails whatever herd's machine did (exit 1, not
 * 3), and an upper bound the held rate already broke stays broken. Any other metric: it could.
 */
export function harnessCouldFlip(t: Threshold, observed: number | null, maxRate: number): boolean {
  if (t.metric !== 'breakpoint.rate') return true;
  const lo = observed ?? 0;
  switch (t.op) {
    case '>=':
      return maxRate >= t.bound;
    case '>':
      return maxRate > t.bound;
    case '<':
      return lo < t.bound;
    case '<=':
      return lo <= t.bound;
    case '==':
      return lo <= t.bound && t.bound <= maxRate;
    default:
      return true;
  }
}
