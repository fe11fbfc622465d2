/**
 * Words and number formats shared by every compare output (pure): each value in its unit, each
 * change with its sign, and each status with its direction spelled out ("WORSE: slower"), so no
 * line can read "better" where the target got worse.
 */
import { formatUs } from '../util/duration.js';
import type { CompareRow, Comparison } from './compare.js';
import type { CompareUnit } from './metrics.js';

export function formatValue(v: number | null, unit: CompareUnit): string {
  if (v === null) return '–';
  if (unit === 'us') return formatUs(v);
  if (unit === 'ratio') return `${(v * 100).toFixed(v !== 0 && Math.abs(v) < 0.01 ? 3 : 2)}%`;
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

/** A row's value as shown: never-reached recoveries say so. */
export function shownValue(row: CompareRow, side: 'base' | 'candidate'): string {
  if (side === 'base' ? row.baseNever : row.candidateNever) return 'never';
  return formatValue(side === 'base' ? row.base : row.candidate, row.unit);
}

export function formatChange(row: CompareRow): { abs: string; rel: string } {
  if (row.change === null) return { abs: '–', rel: '–' };
  const sign = row.change > 0 ? '+' : row.change < 0 ? '−' : '±';
  const mag = Math.abs(row.change);
  const abs = row.unit === 'ratio' ? `${sign}${(mag * 100).toFixed(2)}pp` : `${sign}${formatValue(mag, row.unit)}`;
  const rel =
    row.relativeChange === null
      ? 'new'
      : `${row.relativeChange > 0 ? '+' : row.relativeChange < 0 ? '−' : '±'}${(Math.abs(row.relativeChange) * 100).toFixed(1)}%`;
  return { abs, rel };
}

/** What a rise of the metric means, in words ("slower", "more errors", …). */
function rise(row: CompareRow): string {
  if (row.group === 'shedding') return 'shed more';
  if (row.group === 'harness') return 'herd dropped more';
  if (row.unit === 'us')
    return row.group === 'connect.failed'
      ? 'failed later'
      : row.group === 'connect.scheduleLag'
        ? 'harness lagged more'
        : 'slower';
  if (row.key === 'connect.successRate') return 'higher success share';
  if (row.unit === 'ratio') return `more ${row.key === 'delivery.lossRate' ? 'lost' : 'errors'}`;
  return 'more';
}

function fall(row: CompareRow): string {
  if (row.group === 'shedding') return 'shed less';
  if (row.group === 'harness') return 'herd dropped fewer';
  if (row.unit === 'us')
    return row.group === 'connect.failed'
      ? 'failed sooner'
      : row.group === 'connect.scheduleLag'
        ? 'harness lagged less'
        : 'faster';
  if (row.key === 'connect.successRate') return 'lower success share';
  if (row.unit === 'ratio') return `fewer ${row.key === 'delivery.lossRate' ? 'lost' : 'errors'}`;
  return 'fewer';
}

/**
 * The status in words, with the direction: "WORSE: slower", "better: fewer errors", "noise: slower", "shown: shed
 * more".
 */
export function statusText(row: CompareRow): string {
  const dir = row.change === null ? '' : row.change > 0 ? rise(row) : row.change < 0 ? fall(row) : '';
  switch (row.status) {
    case 'worse':
      return row.change === null ? 'WORSE: never recovered' : `WORSE: ${dir}`;
    case 'better':
      return row.change === null ? 'better: recovered (base never did)' : `better: ${dir}`;
    case 'within':
      return `noise: ${dir}`;
    case 'same':
      return 'same';
    case 'info':
      return `shown: ${dir}`;
    case 'n/a':
      return 'no samples';
  }
}

export function pluralRuns(n: number): string {
  return `${n} run${n === 1 ? '' : 's'}`;
}

export function headline(c: Comparison): string {
  const conf = `${(c.confidence * 100).toFixed(c.confidence * 100 === Math.round(c.confidence * 100) ? 0 : 1)}%`;
  const bars = `tolerance ${c.defaultTolerance}, noise floors, ${conf} significance`;
  if (c.verdict === 'regressed') {
    return `REGRESSED: ${c.regressions.length} metric${c.regressions.length === 1 ? '' : 's'} worse beyond noise (${c.regressions.join(', ')}) — ${bars}`;
  }
  return `PASSED: no metric worse beyond noise${c.improvements.length > 0 ? `; ${c.improvements.length} better` : ''} — ${bars}`;
}

/** Definitions of the shares on show, so every rate states its denominator. */
export function shareDefinitions(rows: readonly CompareRow[]): string[] {
  return rows.filter((r) => r.kind === 'share').map((r) => `${r.key} = ${r.definition}`);
}
