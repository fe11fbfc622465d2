/**
 * The four charts of the HTML report, as inline SVG built from results.json (pure). Every chart
 * has a stable id, every data series a `path.series[data-series]` with `data-points`, every wave a
 * `g.marker-wave[data-wave]`, so a test (or a person with devtools) can check what was drawn.
 */
import { decodeHistogram } from '../metrics/histogram.js';
import { formatUs } from '../util/duration.js';
import type { Results, TimelineBucket } from '../results/types.js';
import { xmlEscape as esc } from './junit.js';
import { describeWave, latencyRows } from './labels.js';
import { waveLengthUs } from '../results/resolved-scenario.js';
import {
  FRAME as F,
  axes,
  barsPath,
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

/** Outcome series stacked bottom-up in the attempts chart, with their legend labels. */
const OUTCOMES = [
  ['succeeded', 'succeeded'],
  ['timeout', 'timeout (herd’s timer)'],
  ['protocol', 'protocol (target rejected)'],
  ['network', 'network (refused/reset)'],
  ['tls', 'tls'],
  ['local', 'local (harness resource)'],
  ['dropped', 'dropped (never started)'],
] as const;

function outcomeValue(b: TimelineBucket, series: (typeof OUTCOMES)[number][0]): number {
  if (series === 'succeeded') return b.succeeded;
  if (series === 'dropped') return b.dropped;
  return b.errorsByOrigin[series] ?? 0;
}

function card(id: string, title: string, hint: string, body: string): string {
  return `<section class="card chart-card" id="card-${id}"><h2>${esc(title)}</h2><p class="hint">${hint}</p>${body}</section>`;
}

function empty(id: string, why: string): string {
  return `<div id="${id}" class="chart chart-empty">${esc(why)}</div>`;
}

function series(name: string, kind: 'line' | 'area' | 'bars', d: string, points: number, extra = ''): string {
  return `<path class="series ${kind} c-${name}" data-series="${name}" data-points="${points}" d="${d}"${extra}/>`;
}

function timeScale(r: Results): Scale {
  const xMax = Math.max(1, r.timeline.buckets.length, Math.ceil(r.scenario.durationUs / 1e6));
  return linearScale(0, xMax, X0, X1, 10, (v) => `${v}s`);
}

/** Transparent per-second columns carrying a tooltip: cheap interactivity with no script. */
function hoverColumns(buckets: readonly TimelineBucket[], x: Scale, text: (b: TimelineBucket) => string): string {
  const cols = buckets.map(
    (b) =>
      `<rect x="${n(x(b.t))}" y="${Y1}" width="${n(x(b.t + 1) - x(b.t))}" height="${Y0 - Y1}"><title>${esc(text(b))}</title></rect>`,
  );
  return `<g class="hover">${cols.join('')}</g>`;
}

export function chartConnected(r: Results): string {
  const id = 'chart-connected';
  const buckets = r.timeline.buckets;
  const title = 'Connected devices';
  const hint =
    'Devices connected at the end of each second; connect waves marked in purple where they start and shaded while they last, outages in red; pale red columns are seconds with disconnects.';
  if (buckets.length === 0) return card('connected', title, hint, empty(id, 'No timeline data in this run.'));
  const x = timeScale(r);
  const yMax = Math.max(1, r.scenario.devices, ...buckets.map((b) => Math.max(b.connected, b.handshaking)));
  const y = linearScale(0, yMax * 1.05, Y0, Y1, 5, formatCount);
  const parts: string[] = [svgOpen(id, F, `${title} over time`), axes(F, x, y, 'seconds since start', 'devices')];
  for (const b of buckets) {
    if (b.disconnects > 0) {
      parts.push(
        `<rect class="outage" data-t="${b.t}" x="${n(x(b.t))}" y="${Y1}" width="${n(x(b.t + 1) - x(b.t))}" height="${Y0 - Y1}"/>`,
      );
    }
  }
  for (const w of r.scenario.waves) {
    // Outage and churn waves knock devices off: drawn in red so a reader sees cause next to effect.
    const kind = w.type === 'outage' || w.type === 'churn' ? 'outage' : 'connect';
    const startS = w.atUs / 1e6;
    const endS = startS + waveLengthUs(w) / 1e6;
    if (endS > startS) {
      parts.push(
        `<rect class="wave-span wave-span-${kind}" x="${n(x(startS))}" y="${Y1}" width="${n(x(endS) - x(startS))}" height="${Y0 - Y1}"/>`,
      );
    }
    parts.push(
      `<g class="marker marker-wave marker-${kind}" data-wave="${esc(w.name)}" data-wave-type="${w.type}" data-at-s="${startS}">` +
        `<line x1="${n(x(startS))}" x2="${n(x(startS))}" y1="${Y1}" y2="${Y0}"/>` +
        `<text x="${n(x(startS) + 4)}" y="${Y1 + 12}">${esc(w.name)}</text><title>${esc(`wave ${w.name}: ${describeWave(w)}`)}</title></g>`,
    );
  }
  const td = r.scenario.durationUs / 1e6;
  parts.push(
    `<g class="marker marker-teardown" data-at-s="${td}"><line x1="${n(x(td))}" x2="${n(x(td))}" y1="${Y1}" y2="${Y0}"/>` +
      `<text x="${n(x(td) - 4)}" y="${Y1 + 12}" text-anchor="end">teardown</text></g>`,
  );
  const planY = n(y(r.scenario.devices));
  parts.push(
    `<g class="marker marker-planned"><line x1="${X0}" x2="${X1}" y1="${planY}" y2="${planY}"/><text x="${X1 - 4}" y="${Number(planY) - 4}" text-anchor="end">${r.scenario.devices} devices</text></g>`,
  );
  const connectedPts: [number, number][] = [[0, 0], ...buckets.map((b): [number, number] => [b.t + 1, b.connected])];
  const line = linePath(connectedPts, x, y);
  const area = `${line}L${n(x(buckets.length))} ${Y0}L${X0} ${Y0}Z`;
  parts.push(`<path class="area-fill c-connected" d="${area}"/>`);
  parts.push(
    series(
      'connected',
      'line',
      line,
      connectedPts.length,
      ` data-max="${Math.max(...buckets.map((b) => b.connected))}"`,
    ),
  );
  const hs = buckets.map((b): [number, number] => [b.t + 1, b.handshaking]);
  parts.push(series('handshaking', 'line', linePath(hs, x, y), hs.length));
  const disc = buckets
    .filter((b) => b.disconnects > 0)
    .map((b) => ({ x0: b.t, x1: b.t + 1, y0: 0, y1: b.disconnects }));
  parts.push(series('disconnects', 'bars', barsPath(disc, x, y), disc.length));
  parts.push(
    hoverColumns(
      buckets,
      x,
      (b) =>
        `${b.t}–${b.t + 1}s · connected ${b.connected} · handshaking ${b.handshaking} · disconnects ${b.disconnects}`,
    ),
  );
  parts.push('</svg>');
  const leg = legend([
    { series: 'connected', label: 'connected', style: 'line' },
    { series: 'handshaking', label: 'handshaking', style: 'line' },
    { series: 'disconnects', label: 'disconnects' },
    { series: 'wave', label: 'wave start', style: 'dash' },
    ...(r.scenario.waves.some((w) => w.type === 'outage' || w.type === 'churn')
      ? [{ series: 'outage', label: 'outage / churn', style: 'dash' as const }]
      : []),
  ]);
  return card('connected', title, hint, leg + parts.join(''));
}

export function chartOutcomes(r: Results): string {
  const id = 'chart-outcomes';
  const buckets = r.timeline.buckets;
  const title = 'Attempts and errors per second';
  const hint = 'Outcomes of attempts finishing in each second, stacked by error origin; the line is attempts started.';
  if (buckets.length === 0) return card('outcomes', title, hint, empty(id, 'No timeline data in this run.'));
  const x = timeScale(r);
  const stackMax = Math.max(
    1,
    ...buckets.map((b) =>
      Math.max(
        b.attempts,
        OUTCOMES.reduce((a, [s]) => a + outcomeValue(b, s), 0),
      ),
    ),
  );
  const y = linearScale(0, stackMax * 1.05, Y0, Y1, 5, formatCount);
  const parts: string[] = [svgOpen(id, F, title), axes(F, x, y, 'seconds since start', 'per second')];
  const base = buckets.map(() => 0);
  for (const [s] of OUTCOMES) {
    const bars = buckets.map((b, i) => {
      const v = outcomeValue(b, s);
      const y0 = base[i] ?? 0;
      base[i] = y0 + v;
      return { x0: b.t, x1: b.t + 1, y0, y1: y0 + v };
    });
    const total = buckets.reduce((a, b) => a + outcomeValue(b, s), 0);
    parts.push(
      series(s, 'bars', barsPath(bars, x, y), bars.filter((b) => b.y1 > b.y0).length, ` data-total="${total}"`),
    );
  }
  const step: [number, number][] = buckets.flatMap((b): [number, number][] => [
    [b.t, b.attempts],
    [b.t + 1, b.attempts],
  ]);
  parts.push(
    series(
      'attempts',
      'line',
      linePath(step, x, y),
      buckets.length,
      ` data-total="${buckets.reduce((a, b) => a + b.attempts, 0)}"`,
    ),
  );
  parts.push(
    hoverColumns(
      buckets,
      x,
      (b) =>
        `${b.t}–${b.t + 1}s · started ${b.attempts} · ` +
        OUTCOMES.map(([s]) => `${s} ${outcomeValue(b, s)}`).join(' · '),
    ),
  );
  parts.push('</svg>');
  const leg = legend([
    ...OUTCOMES.map(([s, label]) => ({ series: s, label })),
    { series: 'attempts', label: 'attempts started', style: 'line' as const },
  ]);
  return card('outcomes', title, hint, leg + parts.join(''));
}

const PCT_SERIES = [
  ['p50', 'connectP50Us', 'p50'],
  ['p90', 'connectP90Us', 'p90'],
  ['p99', 'connectP99Us', 'p99'],
  ['max', 'connectMaxUs', 'max'],
  ['loopdelay', 'loopDelayP99Us', 'harness event-loop delay p99'],
] as const;

export function chartLatencyOverTime(r: Results): string {
  const id = 'chart-latency-time';
  const buckets = r.timeline.buckets;
  const title = 'Handshake latency over time';
  const hint =
    'connect.total (from the intended start) percentiles of attempts finishing in each second, log scale. The dashed line is the harness’s own event-loop delay: when it climbs with the others, suspect herd.';
  const all = buckets.flatMap((b) => PCT_SERIES.map(([, k]) => b[k]).filter((v): v is number => v !== null));
  if (all.length === 0) return card('latency-time', title, hint, empty(id, 'No successful handshakes to plot.'));
  const x = timeScale(r);
  const [lo, hi] = decadeBounds(all);
  const y = logScale(lo, hi, Y0, Y1, formatUs);
  const parts: string[] = [svgOpen(id, F, title), axes(F, x, y, 'seconds since start', 'connect.total')];
  for (const [name, key] of PCT_SERIES) {
    const pts = buckets.map((b): [number, number | null] => [b.t + 0.5, b[key]]);
    const count = pts.filter(([, v]) => v !== null).length;
    parts.push(series(name, 'line', linePath(pts, x, y), count));
    if (name !== 'loopdelay' && count <= 120) {
      const dots = pts
        .filter((p): p is [number, number] => p[1] !== null)
        .map(([px, py]) => `<circle cx="${n(x(px))}" cy="${n(y(py))}" r="2.2"/>`);
      parts.push(`<g class="dots c-${name}" data-dots-for="${name}">${dots.join('')}</g>`);
    }
  }
  parts.push(
    hoverColumns(
      buckets,
      x,
      (b) =>
        `${b.t}–${b.t + 1}s · ` +
        PCT_SERIES.map(([name, key]) => `${name} ${b[key] === null ? '–' : formatUs(b[key])}`).join(' · '),
    ),
  );
  parts.push('</svg>');
  const leg = legend(
    PCT_SERIES.map(([s, , label]) => ({
      series: s,
      label,
      style: s === 'loopdelay' ? ('dash' as const) : ('line' as const),
    })),
  );
  return card('latency-time', title, hint, leg + parts.join(''));
}

/** Percentile curve points of one encoded histogram: x = decades of 1/(1−q), y = µs. */
export function percentileCurve(encoded: string, count: number): [number, number][] {
  if (count === 0) return [];
  const h = decodeHistogram(encoded);
  try {
    const maxDecades = Math.min(6, Math.log10(Math.max(count, 10)));
    const pts: [number, number][] = [];
    for (let d = 0; d < maxDecades; d += 0.05) pts.push([d, h.getValueAtPercentile((1 - 10 ** -d) * 100)]);
    pts.push([maxDecades, h.maxValue]);
    return pts;
  } finally {
    h.destroy();
  }
}

export function chartDistribution(r: Results): string {
  const id = 'chart-distribution';
  const title = 'Latency distribution per phase';
  const hint =
    'Value at each percentile, from the full HDR histograms (log scales; the right end of each line is its maximum).';
  const rows = latencyRows(r);
  if (rows.length === 0) return card('distribution', title, hint, empty(id, 'No latency samples in this run.'));
  const curves = rows.map(([key, label, s]) => ({ key, label, s, pts: percentileCurve(s.histogram, s.count) }));
  const [lo, hi] = decadeBounds(curves.flatMap((c) => c.pts.map(([, v]) => v)));
  const y = logScale(lo, hi, Y0, Y1, formatUs);
  const maxDecades = Math.max(1, ...curves.map((c) => c.pts[c.pts.length - 1]?.[0] ?? 1));
  const xs = ((d: number) => X0 + (d / maxDecades) * (X1 - X0)) as Scale;
  const pctLabels = ['0%', '90%', '99%', '99.9%', '99.99%', '99.999%', '99.9999%'];
  xs.ticks = pctLabels.slice(0, Math.floor(maxDecades + 1e-9) + 1).map((label, i) => ({ value: i, label }));
  const parts: string[] = [svgOpen(id, F, title), axes(F, xs, y, 'percentile', 'latency')];
  for (const c of curves) {
    const cls = c.key.replace(/[^A-Za-z0-9]+/g, '-');
    const tip = `${c.label} (${c.key}): ${c.s.count} samples · p50 ${formatUs(c.s.p50Us)} · p90 ${formatUs(c.s.p90Us)} · p99 ${formatUs(c.s.p99Us)} · max ${formatUs(c.s.maxUs)}`;
    parts.push(
      `<path class="series line c-${cls}" data-series="${esc(c.key)}" data-points="${c.pts.length}" d="${linePath(c.pts, xs, y)}"><title>${esc(tip)}</title></path>`,
    );
  }
  parts.push('</svg>');
  const leg = legend(
    curves.map((c) => ({ series: c.key.replace(/[^A-Za-z0-9]+/g, '-'), label: c.label, style: 'line' as const })),
  );
  return card('distribution', title, hint, leg + parts.join(''));
}
