/**
 * breakpoint.html (pure): one self-contained page for a breakpoint search — offered vs achieved
 * rate, connect p50/p99 and error/shed share per level, the knee marked on every chart, and the
 * level table linking each level's own report. Inline CSS and SVG, no network; the same render
 * check as report.html stamps data-charts-rendered for a headless browser.
 */
import type { BreakpointReport, LevelReport } from '../results/breakpoint-types.js';
import { formatUs } from '../util/duration.js';
import { xmlEscape as esc } from './junit.js';
import { REPORT_CSS } from './html-style.js';
import {
  FRAME as F,
  axes,
  decadeBounds,
  formatCount,
  legend,
  linearScale,
  linePath,
  logScale,
  n,
  svgOpen,
  type Scale,
} from './html-svg.js';

const X0 = F.left;
const X1 = F.width - F.right;
const Y0 = F.height - F.bottom;
const Y1 = F.top;

const RENDER_CHECK = `(function(){var ps=document.querySelectorAll('svg.chart path.series, svg.chart g.dots'),ok=0;
for(var i=0;i<ps.length;i++){var b=ps[i].getBBox();ps[i].setAttribute('data-rendered-box',Math.round(b.width)+'x'+Math.round(b.height));if(b.width>0||b.height>0)ok++;}
document.documentElement.setAttribute('data-charts-rendered',String(ok));})();`;

const EXTRA_CSS = `
.c-offered{--c:var(--muted)}.c-achieved{--c:var(--c-connected)}.c-errors{--c:var(--c-network)}.c-shed{--c:var(--c-protocol)}
.c-offered.line{stroke-dasharray:6 4;stroke-width:1.5}
.level-dot.passed{fill:var(--ok)}.level-dot.failed{fill:var(--bad)}.level-dot.harness{fill:var(--warn)}
.marker-knee line{stroke:var(--bad);stroke-width:2;stroke-dasharray:6 4}.marker-knee text{fill:var(--bad);font-size:11px;font-weight:600}
.marker-harness line{stroke:var(--warn);stroke-width:2;stroke-dasharray:2 3}.marker-harness text{fill:var(--warn);font-size:11px;font-weight:600}
.badge.harness-limited{background:var(--warn)}`;

type Point = [number, number | null];

function sorted(levels: readonly LevelReport[]): LevelReport[] {
  return [...levels].sort((a, b) => a.rate - b.rate);
}

function rateScale(r: BreakpointReport): Scale {
  const max = Math.max(1, ...r.levels.map((l) => l.rate));
  return linearScale(0, max * 1.05, X0, X1, 8, formatCount);
}

function series(name: string, d: string, points: number): string {
  return `<path class="series line c-${name}" data-series="${name}" data-points="${points}" d="${d}"/>`;
}

function dots(
  name: string,
  pts: readonly Point[],
  x: Scale,
  y: (v: number) => number,
  levels: readonly LevelReport[],
): string {
  const circles = pts
    .map(([px, py], i) =>
      py === null
        ? ''
        : `<circle class="level-dot ${levels[i]?.verdict ?? ''}" cx="${n(x(px))}" cy="${n(y(py))}" r="3.5"><title>${esc(`${px}/s: ${levels[i]?.verdict ?? ''}`)}</title></circle>`,
    )
    .join('');
  return `<g class="dots" data-dots-for="${name}">${circles}</g>`;
}

/** The knee (last passing → first failing) and the harness limit, drawn on every chart. */
function markers(r: BreakpointReport, x: Scale): string {
  const o = r.outcome;
  const parts: string[] = [];
  if (o.rate !== null && (o.failedAt !== null || o.end === 'found')) {
    const xx = n(x(o.rate));
    parts.push(
      `<g class="marker marker-knee" data-rate="${o.rate}"><line x1="${xx}" x2="${xx}" y1="${Y1}" y2="${Y0}"/><text x="${xx}" y="${Y1 + 10}" dx="4">knee ${o.rate}${unit(r)}</text></g>`,
    );
  }
  if (o.harnessAt !== null) {
    const xx = n(x(o.harnessAt));
    parts.push(
      `<g class="marker marker-harness" data-rate="${o.harnessAt}"><line x1="${xx}" x2="${xx}" y1="${Y1}" y2="${Y0}"/><text x="${xx}" y="${Y1 + 24}" dx="4">harness limit ${o.harnessAt}${unit(r)}</text></g>`,
    );
  }
  return parts.join('');
}

function xTitle(r: BreakpointReport): string {
  return r.mode === 'held-devices' ? 'devices held at once (level)' : 'offered connects/s (level)';
}

function unit(r: BreakpointReport): string {
  return r.mode === 'held-devices' ? ' devices' : '/s';
}

function card(id: string, title: string, hint: string, body: string): string {
  return `<section class="card chart-card" id="card-${id}"><h2>${esc(title)}</h2><p class="hint">${esc(hint)}</p>${body}</section>`;
}

function chartRates(r: BreakpointReport): string {
  const levels = sorted(r.levels);
  const x = rateScale(r);
  const top = Math.max(1, ...levels.map((l) => Math.max(l.offeredPerS, l.achievedPerS)));
  const y = linearScale(0, top * 1.05, Y0, Y1, 6, formatCount);
  const offered: Point[] = levels.map((l) => [l.rate, l.offeredPerS]);
  const achieved: Point[] = levels.map((l) => [
    l.rate,
    l.verdict === 'harness' && l.runId === '' ? null : l.achievedPerS,
  ]);
  const body = [
    svgOpen('chart-rates', F, 'offered vs achieved connect rate'),
    axes(F, x, y, xTitle(r), 'connects/s'),
    series('offered', linePath(offered, x, y), offered.length),
    series('achieved', linePath(achieved, x, y), achieved.filter((p) => p[1] !== null).length),
    dots('achieved', achieved, x, y, levels),
    markers(r, x),
    '</svg>',
  ].join('');
  const leg = legend([
    { series: 'offered', label: 'offered (the level’s rate)', style: 'dash' },
    { series: 'achieved', label: 'achieved (connected per second, measured window)', style: 'line' },
  ]);
  return card(
    'rates',
    'Offered vs achieved rate',
    'Where achieved falls away from offered, the target stopped keeping up. Dots: green passed, red failed, amber harness-limited.',
    leg + body,
  );
}

function chartLatency(r: BreakpointReport): string {
  const levels = sorted(r.levels);
  const x = rateScale(r);
  const all = levels.flatMap((l) => [l.connectP50Us, l.connectP99Us]).filter((v): v is number => v !== null);
  const [lo, hi] = decadeBounds(all.length > 0 ? all : [1000]);
  const y = logScale(lo, hi, Y0, Y1, formatUs);
  const p50: Point[] = levels.map((l) => [l.rate, l.connectP50Us]);
  const p99: Point[] = levels.map((l) => [l.rate, l.connectP99Us]);
  const body = [
    svgOpen('chart-latency', F, 'connect p50 and p99 per level'),
    axes(F, x, y, xTitle(r), 'connect.total'),
    series('p50', linePath(p50, x, y), p50.filter((p) => p[1] !== null).length),
    series('p99', linePath(p99, x, y), p99.filter((p) => p[1] !== null).length),
    dots('p99', p99, x, y, levels),
    markers(r, x),
    '</svg>',
  ].join('');
  const leg = legend([
    { series: 'p50', label: 'p50', style: 'line' },
    { series: 'p99', label: 'p99', style: 'line' },
  ]);
  return card(
    'latency',
    'Connect latency per level',
    'connect.total from intended start times, measured window only (settle excluded), log scale.',
    leg + body,
  );
}

function chartShares(r: BreakpointReport): string {
  const levels = sorted(r.levels);
  const x = rateScale(r);
  const pct = (v: number | null): number | null => (v === null ? null : Math.round(v * 1000) / 10);
  const errors: Point[] = levels.map((l) => [l.rate, pct(l.errorRate)]);
  const shed: Point[] = levels.map((l) => [l.rate, pct(l.shedRate)]);
  const top = Math.max(5, ...[...errors, ...shed].map((p) => p[1] ?? 0));
  const y = linearScale(0, Math.min(100, top * 1.1), Y0, Y1, 5, (v) => `${formatCount(v)}%`);
  const body = [
    svgOpen('chart-shares', F, 'error and shed share per level'),
    axes(F, x, y, xTitle(r), 'share of ended attempts'),
    series('errors', linePath(errors, x, y), errors.filter((p) => p[1] !== null).length),
    series('shed', linePath(shed, x, y), shed.filter((p) => p[1] !== null).length),
    dots('errors', errors, x, y, levels),
    markers(r, x),
    '</svg>',
  ].join('');
  const leg = legend([
    { series: 'errors', label: 'errors (failed + timed out)', style: 'line' },
    { series: 'shed', label: 'shed by the target (0x89/0x9F/CONNACK 3/HTTP 503)', style: 'line' },
  ]);
  return card(
    'shares',
    'Errors and shedding per level',
    'Share of the attempts that ended in each level’s measured window.',
    leg + body,
  );
}

function levelTable(r: BreakpointReport): string {
  const pct = (v: number | null): string => (v === null ? '–' : `${(v * 100).toFixed(1)}%`);
  const us = (v: number | null): string => (v === null ? '–' : formatUs(v));
  const rows = r.levels.map((l) => {
    const link =
      l.resultsPath === ''
        ? ''
        : ` <a href="${esc(l.resultsPath.replace(/results\.json$/, 'report.html'))}">report</a>`;
    const why = l.verdict === 'harness' ? l.harness.reasons.slice(0, 2).join('; ') : l.brokenBy.join(', ');
    const signs = l.tipping.map((t) => `${t.signal}${t.firstAtS === null ? '' : `@${t.firstAtS}s`}`).join(' → ');
    const cells = [
      String(l.index + 1),
      l.phase,
      `${l.rate}${unit(r)}`,
      `${l.achievedPerS}/s`,
      us(l.connectP50Us),
      us(l.connectP99Us),
      pct(l.errorRate),
      pct(l.shedRate),
      l.verdict,
      why,
      signs,
    ];
    return `<tr class="level-row ${l.verdict === 'passed' ? '' : 'fail'}" data-rate="${l.rate}" data-verdict="${l.verdict}">${cells.map((c) => `<td>${esc(c)}</td>`).join('')}<td>${link}</td></tr>`;
  });
  const head = [
    '#',
    'phase',
    'offered',
    'achieved',
    'p50',
    'p99',
    'errors',
    'shed',
    'verdict',
    'broke',
    'signs (first first)',
    '',
  ];
  return `<section class="card"><h2>Levels, in the order they ran</h2><table id="levels"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}

export function renderBreakpointHtml(r: BreakpointReport): string {
  const o = r.outcome;
  const s = r.settings;
  const advice =
    o.advice.length > 0
      ? `<div class="banner saturated"><strong>Harness</strong><ul>${o.advice.map((a) => `<li>${esc(a)}</li>`).join('')}</ul></div>`
      : '';
  const thresholds = [...r.thresholds.filter((t) => !t.passed), ...r.thresholds.filter((t) => t.passed)]
    .map(
      (t) =>
        `<li class="${t.passed ? 'mark-ok' : 'mark-bad'}">${esc(`${t.metric} ${t.expression}: ${t.observedText} — ${t.passed ? 'passed' : 'failed'}`)}</li>`,
    )
    .join('');
  const stops = s.stopWhen.map((c) => `<code>${esc(`${c.metric} ${c.expression}`)}</code>`).join(', ');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>herd breakpoint · ${esc(r.scenario)}</title><style>${REPORT_CSS}${EXTRA_CSS}</style></head><body><main>
<h1>Breakpoint · ${esc(r.scenario)}<span class="badge ${esc(r.verdict)}" id="verdict">${esc(r.verdict)}</span></h1>
<p class="sub">${esc(r.target)} · ${esc(r.startedAt)} · ${r.levels.length} levels · herd ${esc(r.tool.version)}</p>
<section class="card" id="headline" data-end="${esc(o.end)}" data-rate="${o.rate ?? ''}"
 data-failed-at="${o.failedAt ?? ''}" data-harness-at="${o.harnessAt ?? ''}"><h2>${esc(o.headline)}</h2>
<p class="hint">${
    r.mode === 'held-devices'
      ? `Each level: that many fresh devices arriving at ${s.arrivalRate ?? ''}/s, all held ${s.holdS ?? ''}s, then ${s.drainS}s; the whole level is judged.`
      : `Each level: ${s.settleS}s settle (excluded) + ${s.measureS}s measured at the level’s rate, fresh devices, open model, then ${s.drainS}s for the last attempts to end.`
  } Step-up ×${s.factor} from ${s.startRate}${unit(r)}, then bisection to ${Math.round(s.resolution * 100)}%. A level passes while ${stops} hold.</p>
${thresholds === '' ? '' : `<ul>${thresholds}</ul>`}</section>
${advice}${chartRates(r)}${chartLatency(r)}${chartShares(r)}${levelTable(r)}
<footer>breakpoint.json schema ${esc(r.schemaVersion)}</footer></main><script>${RENDER_CHECK}</script></body></html>
`;
}
