/** Renders a Comparison as a terminal table (coloured through Paint), Markdown or JSON (pure). */
import { formatUs } from '../util/duration.js';
import { PLAIN, type Paint } from '../report/summary.js';
import { mdEscape } from '../report/markdown.js';
import type { CompareRow, Comparison, RowStatus } from './compare.js';
import type { CompareUnit } from './metrics.js';

export const COMPARE_FORMATS = ['text', 'md', 'json'] as const;
export type CompareFormat = (typeof COMPARE_FORMATS)[number];

export function formatValue(v: number | null, unit: CompareUnit): string {
  if (v === null) return '–';
  if (unit === 'us') return formatUs(v);
  if (unit === 'ratio') return `${(v * 100).toFixed(v !== 0 && Math.abs(v) < 0.01 ? 3 : 2)}%`;
  return String(v);
}

export function formatChange(row: CompareRow): { abs: string; rel: string } {
  if (row.change === null) return { abs: '–', rel: '–' };
  const sign = row.change > 0 ? '+' : row.change < 0 ? '−' : '±';
  const mag = Math.abs(row.change);
  const abs = row.unit === 'ratio' ? `${sign}${(mag * 100).toFixed(2)}pp` : `${sign}${formatValue(mag, row.unit)}`;
  const rel = row.relativeChange === null ? 'new' : `${row.relativeChange > 0 ? '+' : row.relativeChange < 0 ? '−' : '±'}${(Math.abs(row.relativeChange) * 100).toFixed(1)}%`;
  return { abs, rel };
}

const STATUS_TEXT: Record<RowStatus, string> = {
  better: 'better',
  worse: 'WORSE',
  within: 'within tolerance',
  same: 'same',
  info: 'changed (not judged)',
  'n/a': 'no samples',
};

/** Rows worth showing: at least one run has a value. */
function visible(c: Comparison): CompareRow[] {
  return c.rows.filter((r) => r.base !== null || r.candidate !== null);
}

function headline(c: Comparison): string {
  return c.verdict === 'regressed'
    ? `REGRESSED: ${c.regressions.length} metric${c.regressions.length === 1 ? '' : 's'} worse beyond tolerance (${c.regressions.join(', ')})`
    : `PASSED: no metric worse beyond tolerance${c.improvements.length > 0 ? `; ${c.improvements.length} better` : ''}`;
}

export function renderCompareText(c: Comparison, p: Paint = PLAIN): string {
  const out: string[] = [];
  out.push(p.bold(`herd compare · ${c.base.scenario}`) + p.dim(`  default tolerance ${c.defaultTolerance}`));
  out.push(`  base       ${c.base.runId}  ${p.dim(c.base.path)}`);
  out.push(`  candidate  ${c.candidate.runId}  ${p.dim(c.candidate.path)}`);
  for (const d of c.scenarioDifferences) out.push(p.warn(`  ⚠ ${d} (compared anyway: --allow-different-scenarios)`));
  for (const n of c.notes) out.push(p.warn(`  ⚠ ${n}`));
  out.push('');
  const rows = visible(c);
  const cells = rows.map((r) => {
    const ch = formatChange(r);
    return [r.key, formatValue(r.base, r.unit), formatValue(r.candidate, r.unit), ch.abs, ch.rel, r.tolerance, STATUS_TEXT[r.status]];
  });
  const head = ['metric', 'base', 'candidate', 'change', '%', 'tolerance', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((row) => (row[i] ?? '').length)));
  const fmt = (row: string[]): string => row.map((v, i) => (i === 0 || i === 6 ? v.padEnd(widths[i] ?? 0) : v.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  out.push(p.dim(`  ${fmt(head)}`));
  let group = '';
  rows.forEach((r, i) => {
    if (r.group !== group && group !== '') out.push('');
    group = r.group;
    const line = `  ${fmt(cells[i] ?? [])}`;
    out.push(r.status === 'worse' ? p.bad(line) : r.status === 'better' ? p.ok(line) : r.status === 'within' || r.status === 'same' ? line : p.dim(line));
  });
  out.push('');
  out.push(`Verdict: ${c.verdict === 'regressed' ? p.bad(p.bold(headline(c))) : p.ok(p.bold(headline(c)))}`);
  return out.join('\n') + '\n';
}

export function renderCompareMarkdown(c: Comparison): string {
  const out: string[] = [];
  out.push(`## herd compare · ${mdEscape(c.base.scenario)} — ${c.verdict === 'regressed' ? '❌ REGRESSED' : '✅ PASSED'}`, '');
  out.push(`Base \`${c.base.runId}\` (${c.base.devices} devices) vs candidate \`${c.candidate.runId}\` (${c.candidate.devices} devices); default tolerance ${mdEscape(c.defaultTolerance)}.`, '');
  for (const d of [...c.scenarioDifferences.map((x) => `${x} (compared anyway)`), ...c.notes]) out.push(`> ⚠ ${mdEscape(d)}`);
  if (c.scenarioDifferences.length + c.notes.length > 0) out.push('');
  out.push('| | metric | base | candidate | change | % | tolerance |', '| :---: | --- | ---: | ---: | ---: | ---: | ---: |');
  const icon: Record<RowStatus, string> = { better: '🟢', worse: '🔴', within: '⚪', same: '⚪', info: 'ℹ️', 'n/a': '–' };
  for (const r of visible(c)) {
    const ch = formatChange(r);
    const cells = [icon[r.status], `\`${r.key}\``, formatValue(r.base, r.unit), formatValue(r.candidate, r.unit), ch.abs, ch.rel, mdEscape(r.tolerance)];
    out.push(`| ${(r.status === 'worse' ? cells.map((x, i) => (i === 0 ? x : `**${x}**`)) : cells).join(' | ')} |`);
  }
  out.push('', `**Verdict: ${mdEscape(headline(c))}**`, '');
  return out.join('\n');
}

export function renderCompareJson(c: Comparison): string {
  return JSON.stringify(c, null, 2) + '\n';
}

export function renderComparison(c: Comparison, format: CompareFormat, p: Paint = PLAIN): string {
  switch (format) {
    case 'text':
      return renderCompareText(c, p);
    case 'md':
      return renderCompareMarkdown(c);
    case 'json':
      return renderCompareJson(c);
  }
}
