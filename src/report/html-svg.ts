/**
 * A very small SVG chart kit for the HTML report (pure string building, no DOM, no library):
 * linear and log scales, nice ticks, axes with grid lines, polylines with gaps, bar paths.
 * Colours come from CSS classes so the page can switch themes.
 */
import { xmlEscape as esc } from './junit.js';

export interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export const FRAME: Frame = { width: 960, height: 300, left: 64, right: 24, top: 16, bottom: 40 };

export interface Scale {
  (v: number): number;
  ticks: { value: number; label: string }[];
}

/** Rounds a coordinate so the markup stays short and stable. */
export function n(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}

/** A 1/2/5×10^k step giving about `count` ticks over [0, max]. */
export function niceStep(max: number, count: number): number {
  if (!(max > 0)) return 1;
  const raw = max / Math.max(1, count);
  const pow = 10 ** Math.floor(Math.log10(raw));
  const m = raw / pow;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * pow;
}

export function linearScale(
  d0: number,
  d1: number,
  r0: number,
  r1: number,
  tickCount: number,
  label: (v: number) => string,
): Scale {
  const span = d1 - d0 || 1;
  const f = ((v: number) => r0 + ((v - d0) / span) * (r1 - r0)) as Scale;
  const step = niceStep(d1 - d0, tickCount);
  f.ticks = [];
  for (let v = Math.ceil(d0 / step) * step; v <= d1 + step * 1e-9; v += step)
    f.ticks.push({ value: v, label: label(v) });
  return f;
}

/** Log scale over [lo, hi] (both > 0); values at or below lo are drawn at lo. Ticks at 1, 10, 100… */
export function logScale(lo: number, hi: number, r0: number, r1: number, label: (v: number) => string): Scale {
  const l0 = Math.log10(lo);
  const l1 = Math.log10(Math.max(hi, lo * 10));
  const f = ((v: number) => r0 + ((Math.log10(Math.max(v, lo)) - l0) / (l1 - l0)) * (r1 - r0)) as Scale;
  f.ticks = [];
  for (let e = Math.ceil(l0 - 1e-9); e <= l1 + 1e-9; e++) f.ticks.push({ value: 10 ** e, label: label(10 ** e) });
  return f;
}

/** Lower and upper decade bounds around a set of positive values, for a log axis. */
export function decadeBounds(values: readonly number[]): [number, number] {
  const pos = values.filter((v) => v > 0);
  if (pos.length === 0) return [1, 10];
  const lo = 10 ** Math.floor(Math.log10(Math.min(...pos)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...pos)) + 1e-9);
  return [lo, hi > lo ? hi : lo * 10];
}

export function axes(f: Frame, x: Scale, y: Scale, xTitle: string, yTitle: string): string {
  const x0 = f.left;
  const x1 = f.width - f.right;
  const y0 = f.height - f.bottom;
  const y1 = f.top;
  const parts: string[] = ['<g class="axes">'];
  for (const t of y.ticks) {
    const yy = n(y(t.value));
    parts.push(`<line class="grid" x1="${x0}" x2="${x1}" y1="${yy}" y2="${yy}"/>`);
    parts.push(
      `<text class="tick tick-y" x="${x0 - 6}" y="${yy}" dy="0.32em" text-anchor="end">${esc(t.label)}</text>`,
    );
  }
  for (const t of x.ticks) {
    const xx = n(x(t.value));
    parts.push(`<line class="grid grid-x" x1="${xx}" x2="${xx}" y1="${y1}" y2="${y0}"/>`);
    parts.push(`<text class="tick tick-x" x="${xx}" y="${y0 + 16}" text-anchor="middle">${esc(t.label)}</text>`);
  }
  parts.push(`<line class="axis" x1="${x0}" x2="${x1}" y1="${y0}" y2="${y0}"/>`);
  parts.push(`<line class="axis" x1="${x0}" x2="${x0}" y1="${y1}" y2="${y0}"/>`);
  parts.push(
    `<text class="axis-title" x="${(x0 + x1) / 2}" y="${f.height - 4}" text-anchor="middle">${esc(xTitle)}</text>`,
  );
  parts.push(
    `<text class="axis-title" transform="translate(12 ${(y0 + y1) / 2}) rotate(-90)" text-anchor="middle">${esc(yTitle)}</text>`,
  );
  parts.push('</g>');
  return parts.join('');
}

/** A path through points; null values break the line. Returns the `d` attribute ('' when empty). */
export function linePath(
  points: readonly (readonly [number, number | null])[],
  x: (v: number) => number,
  y: (v: number) => number,
): string {
  let d = '';
  let pen = false;
  for (const [px, py] of points) {
    if (py === null) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${n(x(px))} ${n(y(py))}`;
    pen = true;
  }
  return d;
}

/** Bars as one path: each bar spans [x0, x1] from y0 to y1 (values, not pixels). */
export function barsPath(
  bars: readonly { x0: number; x1: number; y0: number; y1: number }[],
  x: (v: number) => number,
  y: (v: number) => number,
): string {
  let d = '';
  for (const b of bars) {
    if (b.y1 <= b.y0) continue;
    const left = x(b.x0);
    const right = x(b.x1);
    const gap = Math.min(1, (right - left) * 0.15);
    d += `M${n(left + gap)} ${n(y(b.y0))}H${n(right - gap)}V${n(y(b.y1))}H${n(left + gap)}Z`;
  }
  return d;
}

export function svgOpen(id: string, f: Frame, label: string): string {
  return `<svg id="${esc(id)}" class="chart" viewBox="0 0 ${f.width} ${f.height}" role="img" aria-label="${esc(label)}" xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">`;
}

export function legend(items: readonly { series: string; label: string; style?: 'line' | 'box' | 'dash' }[]): string {
  return (
    '<div class="legend">' +
    items
      .map(
        (i) =>
          `<span class="legend-item" data-series="${esc(i.series)}"><span class="swatch swatch-${i.style ?? 'box'} c-${esc(i.series)}"></span>${esc(i.label)}</span>`,
      )
      .join('') +
    '</div>'
  );
}

/** Compact count labels for axes: 950, 1.5k, 20k, 1.2M. */
export function formatCount(v: number): string {
  if (Math.abs(v) >= 1e6) return `${trim(v / 1e6)}M`;
  if (Math.abs(v) >= 1e3) return `${trim(v / 1e3)}k`;
  return trim(v);
}

function trim(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}
