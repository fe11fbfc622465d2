/**
 * `herd compare a/breakpoint.json b/breakpoint.json` (pure but for reading the two files): did the
 * breakpoint move beyond what the searches can resolve, and what tipped each target over.
 *
 * Each search brackets the breakpoint: the target sustained `rate` and failed at `failedAt`, so
 * the true value lies in [rate, failedAt) (held-max: [maxRate, ∞); below-min: [0, minRate)). The
 * breakpoint moved only when the two brackets do not overlap: any overlap is within the searches'
 * resolution, whatever the two `rate` figures say.
 */
import { MIB, readInputFile } from '../util/input-file.js';
import { HerdError } from '../errors.js';
import type { BreakpointReport } from '../results/breakpoint-types.js';

export interface BreakpointSide {
  path: string;
  rate: number | null;
  failedAt: number | null;
  /** [lo, hi): where this search places the breakpoint (hi null: unbounded). */
  bracket: [number, number | null];
  end: BreakpointReport['outcome']['end'];
  tippedBy: string | null;
  brokenBy: string[];
}

export interface BreakpointComparison {
  mode: BreakpointReport['mode'];
  base: BreakpointSide;
  candidate: BreakpointSide;
  /** moved-down: the candidate breaks at a lower rate; within-resolution: the brackets overlap. */
  verdict: 'moved-down' | 'moved-up' | 'within-resolution' | 'not-comparable';
  /** Why not comparable (a harness-limited search). */
  reason: string | null;
}

/** A breakpoint.json holds one summary per level: far below the results files' cap. */
const MAX_BREAKPOINT_BYTES = 64 * MIB;

/** True when a parsed JSON document is a breakpoint.json rather than a results.json. */
export function isBreakpointReport(doc: unknown): doc is BreakpointReport {
  return typeof doc === 'object' && doc !== null && 'levels' in doc && 'outcome' in doc && 'settings' in doc;
}

/** Whether a file is a breakpoint.json (false for anything unreadable: readResults then says why). */
export function looksLikeBreakpoint(path: string): boolean {
  // Read as every input is: a regular file under the cap (a FIFO or device is never opened here).
  const r = readInputFile(path, MAX_BREAKPOINT_BYTES);
  if (!r.ok) return false;
  try {
    return isBreakpointReport(JSON.parse(r.bytes.toString('utf8')));
  } catch {
    return false;
  }
}

export function readBreakpoint(path: string): BreakpointReport {
  const r = readInputFile(path, MAX_BREAKPOINT_BYTES);
  if (!r.ok) throw new HerdError('E_RESULTS_FILE', `${path}: cannot read the breakpoint file (${r.why})`);
  let doc: unknown;
  try {
    doc = JSON.parse(r.bytes.toString('utf8'));
  } catch {
    throw new HerdError('E_RESULTS_FILE', `${path}: cannot read the breakpoint file (not valid JSON)`);
  }
  if (!isBreakpointReport(doc)) throw new HerdError('E_RESULTS_FILE', `${path}: not a herd breakpoint.json`);
  if (!String(doc.schemaVersion).startsWith('1.')) {
    const v = String(doc.schemaVersion);
    throw new HerdError('E_RESULTS_VERSION', `${path}: breakpoint schema version ${v} is not supported (1.x)`);
  }
  return doc;
}

function side(r: BreakpointReport, path: string): BreakpointSide {
  const o = r.outcome;
  let bracket: [number, number | null];
  if (o.end === 'held-max') bracket = [o.rate ?? r.settings.maxRate, null];
  else if (o.end === 'below-min') bracket = [0, o.failedAt ?? r.settings.minRate];
  else bracket = [o.rate ?? 0, o.failedAt];
  const { rate, failedAt, end, tippedBy, brokenBy } = o;
  return { path, rate, failedAt, bracket, end, tippedBy, brokenBy };
}

export function compareBreakpoints(
  a: BreakpointReport,
  b: BreakpointReport,
  paths: [string, string],
): BreakpointComparison {
  const base = side(a, paths[0]);
  const candidate = side(b, paths[1]);
  const out = (verdict: BreakpointComparison['verdict'], reason: string | null): BreakpointComparison => ({
    mode: a.mode,
    base,
    candidate,
    verdict,
    reason,
  });
  if (a.mode !== b.mode || a.scenario !== b.scenario) {
    throw new HerdError(
      'E_COMPARE_SCENARIO',
      `${paths[0]} and ${paths[1]} are searches of different scenarios or modes ` +
        `("${a.scenario}" ${a.mode}, "${b.scenario}" ${b.mode}), so their breakpoints are not comparable`,
    );
  }
  // A partial search (Ctrl-C) has no final bracket: its levels are shown in its own report.
  const aborted = (
    [
      [a, base],
      [b, candidate],
    ] as const
  ).find(([r]) => r.status === 'aborted');
  if (aborted) {
    const why = aborted[0].abortReason === null ? '' : ` (${aborted[0].abortReason})`;
    return out('not-comparable', `${aborted[1].path}: the search was aborted${why} before it finished`);
  }
  const limited = [base, candidate].find((s) => s.end === 'harness');
  if (limited) return out('not-comparable', `${limited.path}: the harness, not the target, was the limit`);
  const [bLo, bHi] = base.bracket;
  const [cLo, cHi] = candidate.bracket;
  if (cHi !== null && cHi <= bLo) return out('moved-down', null);
  if (bHi !== null && bHi <= cLo) return out('moved-up', null);
  return out('within-resolution', null);
}

export function renderBreakpointComparison(c: BreakpointComparison): string {
  const unit = c.mode === 'connect-rate' ? 'connects/s' : 'devices held';
  const fmt = (s: BreakpointSide): string => {
    const hi = s.bracket[1] === null ? '∞' : String(s.bracket[1]);
    const tip = s.tippedBy === null ? 'nothing failed' : `tipped by ${s.tippedBy}`;
    const broke = s.brokenBy.length > 0 ? ` (${s.brokenBy.join('; ')})` : '';
    const bracket = `[${s.bracket[0]}, ${hi})`;
    return `${s.path}: sustained ${s.rate ?? 'none'} ${unit}, breakpoint in ${bracket} — ${tip}${broke}`;
  };
  const verdict = {
    'moved-down': "REGRESSED: the candidate breaks at a lower rate; the two searches' brackets do not overlap",
    'moved-up': "IMPROVED: the candidate sustains a higher rate; the two searches' brackets do not overlap",
    'within-resolution': "no change beyond the searches' resolution: the brackets overlap",
    'not-comparable': `not comparable: ${c.reason ?? ''}`,
  }[c.verdict];
  const sides = `  base       ${fmt(c.base)}\n  candidate  ${fmt(c.candidate)}\n`;
  return `breakpoint comparison (${c.mode})\n${sides}${verdict}\n`;
}
