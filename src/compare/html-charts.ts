/**
 * The overlay charts of the compare page (pure SVG strings, built with the report's chart kit):
 * connected devices over time, attempts and errors per second, and latency percentile curves per
 * phase — base in blue, candidate in orange, one line per run. Every line is a
 * `path.series[data-series]` with `data-points`, so a test can check what was drawn.
 */
import { formatUs } from '../util/duration.js';
import { xmlEscape as esc } from '../report/junit.js';
import {
  FRAME as F,
  axes,
  decadeBounds,
  formatCount,
  legend,
  linearScale,
  linePath,
  logScale,
  svgOpen,
  type Scale,
} from '../report/html-svg.js';
import { percentileUs, type Distribution } from './stats.js';
import type { Results, TimelineBucket } from './results.js';

const X0 = F.left;
const X1 = F.width - F.right;

export type Side = 'base' | 'cand';
export interface SideRuns {
  side: Side;
  runs: readonly Results[];
}

/** Extra CSS for the two sides; the rest comes from the report's stylesheet. */
export const COMPARE_CSS = `
:root{--c-base:#2563eb;--c-cand:#e8590c}
.c-base{--c:var(--c-base)}.c-cand{--c:var(--c-cand)}
.series.line.c-base{stroke-width:4;opacity:.75}.series.line.c-cand{stroke-width:1.75}
.series.errors{stroke-dasharray:5 3;stroke-width:1.5}
.series.extra-run{opacity:.5;stroke-width:1.5}
tr.worse td{color:var(--bad)}tr.better td{color:var(--ok)}tr.quiet td{color:var(--muted)}
.badge.regressed{background:var(--bad)}
ul.config{margin:0;padding-left:20px}ul.config li.differs{color:var(--warn);font-weight:600}ul.config li.same{color:var(--muted)}
`;

function card(id: string, title: string, hint: string, body: string): string {
  return `<section class="card chart-card" id="card-${id}"><h2>${esc(title)}</h2><p class="hint">${esc(hint)}</p>${body}</section>`;
}

function line(side: Side, name: string, runIndex: number, d: string, points: number, extraClass = ''): string {
  const cls = `series line c-${side}${extraClass}${runIndex > 0 ? ' extra-run' : ''}`;
  return `<path class="${cls}" data-series="${side}-${name}-${runIndex + 1}" data-points="${points}" d="${d}"/>`;
}

function sideLegend(extra: { series: string; label: string; style: 'line' | 'dash' }[] = []): string {
  return legend([
    { series: 'base', label: 'base', style: 'line' },
    { series: 'cand', label: 'candidate', style: 'line' },
    ...extra,
  ]);
}

function timeScale(sides: readonly SideRuns[]): Scale {
  const all = sides.flatMap((s) => s.runs);
  const xMax = Math.max(
    1,
    ...all.map((r) => Math.max(r.timeline.buckets.length, Math.ceil(r.scenario.durationUs / 1e6))),
  );
  return linearScale(0, xMax, X0, X1, 10, (v) => `${v}s`);
}

function overTime(
  id: string,
  title: string,
  hint: string,
  sides: readonly SideRuns[],
  yTitle: string,
  lines: readonly { name: string; dashed: boolean; at: (b: TimelineBucket) => number }[],
): string {
  const buckets = sides.flatMap((s) => s.runs.flatMap((r) => r.timeline.buckets));
  if (buckets.length === 0)
    return card(
      id,
      title,
      hint,
      `<div id="chart-${id}" class="chart chart-empty">No timeline data in these runs.</div>`,
    );
  const x = timeScale(sides);
  const yMax = Math.max(1, ...buckets.flatMap((b) => lines.map((l) => l.at(b))));
  const y = linearScale(0, yMax * 1.05, F.height - F.bottom, F.top, 5, formatCount);
  const parts = [svgOpen(`chart-${id}`, F, title), axes(F, x, y, 'seconds since start', yTitle)];
  for (const s of sides) {
    s.runs.forEach((r, i) => {
      for (const l of lines) {
        const pts = r.timeline.buckets.map((b): [number, number] => [b.t + 1, l.at(b)]);
        parts.push(line(s.side, l.name, i, linePath([[0, 0], ...pts], x, y), pts.length, l.dashed ? ' errors' : ''));
      }
    });
  }
  parts.push('</svg>');
  const dashed = lines
    .filter((l) => l.dashed)
    .map((l) => ({ series: 'base', label: `${l.name} (dashed)`, style: 'dash' as const }));
  return card(id, title, hint, sideLegend(dashed) + parts.join(''));
}

export function chartConnectedOverlay(sides: readonly SideRuns[]): string {
  return overTime(
    'connected',
    'Connected devices',
    'Devices connected at the end of each second; paler lines are further runs of a side.',
    sides,
    'devices',
    [{ name: 'connected', dashed: false, at: (b) => b.connected }],
  );
}

export function chartRatesOverlay(sides: readonly SideRuns[]): string {
  const errors = (b: TimelineBucket): number => Object.values(b.errorsByOrigin).reduce((a, v) => a + v, 0);
  return overTime(
    'rates',
    'Attempts and errors per second',
    'Solid: attempts started each second. Dashed: errors of any origin (shedding included) finishing each second.',
    sides,
    'per second',
    [
      { name: 'attempts', dashed: false, at: (b) => b.attempts },
      { name: 'errors', dashed: true, at: errors },
    ],
  );
}

/** Value at each percentile: x = decades of 1/(1−q) (0 = p0, 1 = p90, 2 = p99…), up to the maximum. */
export function curve(d: Distribution): [number, number][] {
  if (d.total === 0) return [];
  const decades = Math.min(5, Math.log10(Math.max(d.total, 10)));
  const pts: [number, number][] = [];
  for (let x = 0; x < decades; x += 0.05) pts.push([x, percentileUs(d, (1 - 10 ** -x) * 100) as number]);
  pts.push([decades, d.valuesUs[d.valuesUs.length - 1] as number]);
  return pts.filter(([, v]) => Number.isFinite(v));
}

export function chartPercentiles(series: string, base: Distribution, cand: Distribution): string {
  const id = `latency-${series.replace(/[^A-Za-z0-9]+/g, '-')}`;
  const title = `${series}: latency by percentile`;
  const hint = `From each side's histograms pooled over its runs (${base.total} vs ${cand.total} samples); log scales, the right end of a line is its maximum.`;
  const curves = [
    ['base', curve(base)],
    ['cand', curve(cand)],
  ] as const;
  const all = curves.flatMap(([, pts]) => pts.map(([, v]) => v));
  if (all.length === 0)
    return card(id, title, hint, `<div id="chart-${id}" class="chart chart-empty">No samples.</div>`);
  const [lo, hi] = decadeBounds(all);
  const y = logScale(lo, hi, F.height - F.bottom, F.top, formatUs);
  const maxDecades = Math.max(1, ...curves.map(([, pts]) => pts[pts.length - 1]?.[0] ?? 1));
  const xs = ((v: number) => X0 + (v / maxDecades) * (X1 - X0)) as Scale;
  xs.ticks = ['0%', '90%', '99%', '99.9%', '99.99%', '99.999%']
    .slice(0, Math.floor(maxDecades + 1e-9) + 1)
    .map((label, i) => ({ value: i, label }));
  const parts = [svgOpen(`chart-${id}`, F, title), axes(F, xs, y, 'percentile', 'latency')];
  for (const [side, pts] of curves) parts.push(line(side, series, 0, linePath(pts, xs, y), pts.length));
  parts.push('</svg>');
  return card(id, title, hint, sideLegend() + parts.join(''));
}
