/** The terminal summary of a breakpoint search (pure): the finding and why first, then one line per level. */
import type { BreakpointReport, LevelReport } from '../results/breakpoint-types.js';
import { formatUs } from '../util/duration.js';
import { PLAIN, type Paint } from './summary.js';
import { escapeControlDeep } from '../util/control-chars.js';

const pct = (v: number | null): string => (v === null ? '–' : `${(v * 100).toFixed(1)}%`);
const us = (v: number | null): string => (v === null ? '–' : formatUs(v));

/** One level as printed while the search runs and in the summary. */
export function renderLevelLine(
  unsafe: LevelReport,
  p: Paint = PLAIN,
  mode: BreakpointReport['mode'] = 'connect-rate',
): string {
  // Names come from users and files: their control characters are shown escaped, never raw.
  const l = escapeControlDeep(unsafe);
  const level = mode === 'held-devices' ? `${l.rate} dev` : `${l.rate}/s`;
  const mark = l.verdict === 'passed' ? p.ok('pass') : l.verdict === 'failed' ? p.bad('FAIL') : p.warn('HARNESS');
  const why =
    l.verdict === 'harness'
      ? `  the harness was the limit: ${l.harness.reasons[0] ?? ''}`
      : l.brokenBy.length > 0
        ? `  broke ${l.brokenBy.join(', ')}; first sign ${l.tipping[0]?.signal ?? '–'}`
        : '';
  const flagged = l.harness.flagged && !l.harness.limited ? p.dim('  (harness flagged, no effect on the verdict)') : '';
  return (
    `${String(l.index + 1).padStart(2)} ${l.phase.padEnd(9)} ${level.padStart(9)} → ${`${l.achievedPerS}/s`.padStart(9)}` +
    `  p50 ${us(l.connectP50Us).padStart(8)}  p99 ${us(l.connectP99Us).padStart(8)}` +
    `  err ${pct(l.errorRate).padStart(6)}  shed ${pct(l.shedRate).padStart(6)}  ${mark}${why}${flagged}`
  );
}

export function renderBreakpointSummary(unsafe: BreakpointReport, p: Paint = PLAIN): string {
  // Names come from users and files: their control characters are shown escaped, never raw.
  const r = escapeControlDeep(unsafe);
  const lines: string[] = [];
  lines.push(p.bold(`herd breakpoint · ${r.scenario} · ${r.target}`));
  const st = r.settings;
  const shape =
    r.mode === 'held-devices'
      ? `held devices: fresh fleets arriving at ${st.arrivalRate ?? ''}/s, held ${st.holdS ?? ''}s`
      : `levels: ${st.settleS}s settle (excluded) + ${st.measureS}s measured`;
  lines.push(p.dim(`${shape}, ×${st.factor} then bisection to ${Math.round(st.resolution * 100)}%`));
  // Why first: the finding, the thresholds that failed (then the rest), the harness's note, then the levels.
  const o = r.outcome;
  lines.push(
    r.verdict === 'passed' ? p.ok(o.headline) : r.verdict === 'failed' ? p.bad(o.headline) : p.warn(o.headline),
  );
  const first = o.failedAt === null ? undefined : r.levels.find((l) => l.rate === o.failedAt && l.verdict === 'failed');
  for (const t of first?.tipping ?? [])
    lines.push(p.dim(`  ${t.signal}${t.firstAtS === null ? '' : ` (from ${t.firstAtS}s)`}: ${t.detail}`));
  for (const t of [...r.thresholds.filter((x) => !x.passed), ...r.thresholds.filter((x) => x.passed)]) {
    const line = `threshold ${t.metric} ${t.expression}: ${t.observedText} — ${t.passed ? 'passed' : 'failed'}`;
    lines.push(t.passed ? p.ok(line) : p.bad(line));
  }
  for (const a of o.advice) lines.push(p.warn(`  ${a}`));
  lines.push('');
  for (const l of r.levels) lines.push(renderLevelLine(l, p, r.mode));
  return lines.join('\n');
}
