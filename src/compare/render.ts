/**
 * Renders a Comparison as a terminal report (coloured through Paint), Markdown or JSON (pure).
 * Both text forms lead with what matters: the verdict, the configuration that differs, the few
 * metrics that moved beyond noise, then the rest with the reason each was or was not judged.
 */
import { PLAIN, type Paint } from '../report/summary.js';
import { mdEscape } from '../report/markdown.js';
import { movedRows, type CompareRow, type Comparison } from './compare.js';
import { renderCompareHtml } from './html.js';
import { formatChange, formatValue, headline, pluralRuns, shareDefinitions, shownValue, statusText } from './words.js';
import { escapeControlDeep } from '../util/control-chars.js';

export { formatChange, formatValue } from './words.js';

export const COMPARE_FORMATS = ['text', 'md', 'json', 'html'] as const;
export type CompareFormat = (typeof COMPARE_FORMATS)[number];

/** Rows worth showing: at least one side has a number (or never got there). */
function visible(c: Comparison): CompareRow[] {
  return c.rows.filter((r) => r.status !== 'n/a' || r.base !== null || r.candidate !== null);
}

function zeroBoth(r: CompareRow): boolean {
  return r.status === 'same' && r.base === 0 && r.candidate === 0;
}

function multi(c: Comparison): boolean {
  return c.base.length > 1 || c.candidate.length > 1;
}

function range(row: CompareRow, side: 'base' | 'candidate'): string {
  const vs = (side === 'base' ? row.baseRuns : row.candidateRuns).filter((v): v is number => v !== null);
  if (vs.length < 2) return '';
  return `${formatValue(Math.min(...vs), row.unit)}–${formatValue(Math.max(...vs), row.unit)}`;
}

function floorText(row: CompareRow): string {
  return row.floor === null
    ? ''
    : row.unit === 'ratio'
      ? `${(row.floor.amount * 100).toFixed(2)}pp`
      : formatValue(row.floor.amount, row.unit);
}

function pText(row: CompareRow): string {
  if (row.test === null) return '';
  return row.test.p < 0.0001 ? '<0.0001' : row.test.p.toFixed(4);
}

function cellsOf(c: Comparison, r: CompareRow): string[] {
  const ch = formatChange(r);
  const cells = [
    r.key,
    shownValue(r, 'base'),
    shownValue(r, 'candidate'),
    ch.abs,
    ch.rel,
    floorText(r),
    pText(r),
    statusText(r),
  ];
  if (multi(c)) cells.splice(3, 0, range(r, 'base'), range(r, 'candidate'));
  return cells;
}

function head(c: Comparison): string[] {
  const h = ['metric', 'base', 'candidate', 'change', '%', 'floor', 'p', ''];
  if (multi(c)) h.splice(3, 0, 'base runs', 'cand. runs');
  return h;
}

function table(c: Comparison, rows: CompareRow[], p: Paint, withReason: boolean): string[] {
  const h = head(c);
  const cells = rows.map((r) => cellsOf(c, r));
  const last = h.length - 1;
  const widths = h.map((x, i) => Math.max(x.length, ...cells.map((row) => (row[i] ?? '').length)));
  const fmt = (row: string[]): string =>
    row
      .map((v, i) => (i === 0 || i === last ? v.padEnd(widths[i] ?? 0) : v.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const out = [p.dim(`  ${fmt(h)}`)];
  let group = '';
  rows.forEach((r, i) => {
    if (withReason && r.group !== group && group !== '') out.push('');
    group = r.group;
    const line = `  ${fmt(cells[i] ?? [])}${withReason && r.status !== 'same' ? p.dim(`  ${r.reason}`) : ''}`;
    out.push(
      r.status === 'worse'
        ? p.bad(line)
        : r.status === 'better'
          ? p.ok(line)
          : r.status === 'within' || r.status === 'same'
            ? line
            : p.dim(line),
    );
  });
  return out;
}

function sides(c: Comparison): string {
  return `${pluralRuns(c.base.length)} vs ${pluralRuns(c.candidate.length)}`;
}

export function renderCompareText(unsafe: Comparison, p: Paint = PLAIN): string {
  // Names come from users and files: their control characters are shown escaped, never raw.
  const c = escapeControlDeep(unsafe);
  const out: string[] = [];
  const scenario = c.base[0]?.scenario ?? '';
  out.push(p.bold(`herd compare · ${scenario} · base ${sides(c)} (candidate)`));
  out.push(`Verdict: ${c.verdict === 'regressed' ? p.bad(p.bold(headline(c))) : p.ok(p.bold(headline(c)))}`);
  out.push('');
  const differs = c.configuration.filter((i) => !i.same);
  out.push(differs.length === 0 ? 'Configuration: the same' : 'Configuration that differs (base → candidate)');
  for (const i of differs) out.push(p.warn(`  ⚠ ${i.field}: ${i.base} → ${i.candidate}`));
  // Unchanged knobs of the embedded target are its profile's: naming the profile says them.
  const same = c.configuration.filter((i) => i.same && !i.field.startsWith('target.'));
  if (same.length > 0) out.push(p.dim(`  same: ${same.map((i) => `${i.field} ${i.base}`).join(' · ')}`));
  for (const d of c.scenarioDifferences) out.push(p.warn(`  ⚠ ${d} (compared anyway: --allow-different-scenarios)`));
  for (const n of c.notes) out.push(p.warn(`  ⚠ ${n}`));
  out.push('');
  const moved = movedRows(c);
  out.push(moved.length === 0 ? 'Nothing moved beyond noise.' : `Moved beyond noise (${moved.length})`);
  if (moved.length > 0) out.push(...table(c, moved, p, false));
  out.push('');
  out.push('Everything else (why each is or is not judged)');
  const rest = visible(c).filter((r) => !moved.includes(r));
  out.push(
    ...table(
      c,
      rest.filter((r) => !zeroBoth(r)),
      p,
      true,
    ),
  );
  const zeros = rest.filter(zeroBoth);
  if (zeros.length > 0) out.push(p.dim(`  zero on both sides: ${zeros.map((r) => r.key).join(', ')}`));
  out.push('');
  for (const d of shareDefinitions(visible(c).filter((r) => !zeroBoth(r)))) out.push(p.dim(`  ${d}`));
  for (const r of c.base) out.push(p.dim(`  base       ${r.runId}  ${r.path}`));
  for (const r of c.candidate) out.push(p.dim(`  candidate  ${r.runId}  ${r.path}`));
  return out.join('\n') + '\n';
}

function mdTable(c: Comparison, rows: CompareRow[], withReason: boolean): string[] {
  const h = head(c);
  const cols = withReason ? [...h.slice(0, -1), 'status', 'why'] : [...h.slice(0, -1), 'status'];
  const out = [
    `| ${cols.join(' | ')} |`,
    `| ${cols.map((_, i) => (i === 0 || i >= cols.length - (withReason ? 2 : 1) ? '---' : '---:')).join(' | ')} |`,
  ];
  const icon = (r: CompareRow): string => (r.status === 'worse' ? '🔴 ' : r.status === 'better' ? '🟢 ' : '');
  for (const r of rows) {
    const cells = cellsOf(c, r).map(mdEscape);
    cells[0] = `\`${r.key}\``;
    const last = cells.length - 1;
    cells[last] = `${icon(r)}${cells[last] ?? ''}`;
    if (withReason) cells.push(mdEscape(r.reason));
    out.push(`| ${(r.status === 'worse' ? cells.map((x, i) => (i === last ? `**${x}**` : x)) : cells).join(' | ')} |`);
  }
  return out;
}

export function renderCompareMarkdown(unsafe: Comparison): string {
  // Names come from users and files: their control characters are shown escaped, never raw.
  const c = escapeControlDeep(unsafe);
  const out: string[] = [];
  out.push(
    `## herd compare · ${mdEscape(c.base[0]?.scenario ?? '')} — ${c.verdict === 'regressed' ? '❌ REGRESSED' : '✅ PASSED'}`,
    '',
  );
  out.push(`**${mdEscape(headline(c))}**`, '');
  out.push(
    `Base ${sides(c)} (candidate): ${c.base.map((r) => `\`${r.runId}\``).join(', ')} vs ${c.candidate.map((r) => `\`${r.runId}\``).join(', ')}.`,
    '',
  );
  const differs = c.configuration.filter((i) => !i.same);
  if (differs.length > 0) {
    out.push('**Configuration that differs** (base → candidate):', '');
    for (const i of differs) out.push(`- ⚠ ${mdEscape(i.field)}: ${mdEscape(i.base)} → ${mdEscape(i.candidate)}`);
    out.push('');
  }
  for (const d of [...c.scenarioDifferences.map((x) => `${x} (compared anyway)`), ...c.notes])
    out.push(`> ⚠ ${mdEscape(d)}`);
  if (c.scenarioDifferences.length + c.notes.length > 0) out.push('');
  const moved = movedRows(c);
  out.push(moved.length === 0 ? 'Nothing moved beyond noise.' : `### Moved beyond noise (${moved.length})`, '');
  if (moved.length > 0) out.push(...mdTable(c, moved, false), '');
  out.push('<details><summary>Everything else</summary>', '');
  const rest = visible(c).filter((r) => !moved.includes(r));
  out.push(
    ...mdTable(
      c,
      rest.filter((r) => !zeroBoth(r)),
      true,
    ),
    '',
  );
  const zeros = rest.filter(zeroBoth);
  if (zeros.length > 0) out.push(`Zero on both sides: ${zeros.map((r) => `\`${r.key}\``).join(', ')}.`, '');
  for (const d of shareDefinitions(rest.filter((r) => !zeroBoth(r)))) out.push(`- ${mdEscape(d)}`);
  out.push('', '</details>', '');
  return out.join('\n');
}

export function renderCompareJson(c: Comparison): string {
  return JSON.stringify(c, (_k, v: unknown) => (v === Infinity ? null : v), 2) + '\n';
}

/** html needs the runs themselves (their timelines and histograms), not only the comparison. */
export function renderComparison(c: Comparison, format: Exclude<CompareFormat, 'html'>, p: Paint = PLAIN): string {
  switch (format) {
    case 'text':
      return renderCompareText(c, p);
    case 'md':
      return renderCompareMarkdown(c);
    case 'json':
      return renderCompareJson(c);
  }
}

export { renderCompareHtml };
