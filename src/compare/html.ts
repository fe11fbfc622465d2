/**
 * `herd compare --format html` (pure): one self-contained page — inline CSS and SVG, no network,
 * no library — with the verdict, the configuration that differs, the metrics that moved, the
 * overlay charts and every row with why it was or was not judged. A few lines of inline script
 * only measure the drawn lines and stamp the count on the page (data-charts-rendered), so a
 * headless browser can prove the charts rendered.
 */
import { xmlEscape as esc } from '../report/junit.js';
import { REPORT_CSS } from '../report/html-style.js';
import { movedRows, type CompareRow, type Comparison } from './compare.js';
import { chartConnectedOverlay, chartPercentiles, chartRatesOverlay, COMPARE_CSS } from './html-charts.js';
import type { Results } from './results.js';
import { fromEncoded, mergeDistributions } from './stats.js';
import { formatChange, headline, pluralRuns, shareDefinitions, shownValue, statusText } from './words.js';

const RENDER_CHECK = `(function(){var ps=document.querySelectorAll('svg.chart path.series'),ok=0;
for(var i=0;i<ps.length;i++){var b=ps[i].getBBox();ps[i].setAttribute('data-rendered-box',Math.round(b.width)+'x'+Math.round(b.height));if(b.width>0||b.height>0)ok++;}
document.documentElement.setAttribute('data-charts-rendered',String(ok));})();`;

function rowsTable(id: string, rows: readonly CompareRow[], withReason: boolean): string {
  const head = ['metric', 'base', 'candidate', 'change', '%', 'status', ...(withReason ? ['why'] : [])];
  const num = [false, true, true, true, true, false, false];
  const th = head.map((h, i) => `<th${num[i] ? ' class="num"' : ''}>${esc(h)}</th>`).join('');
  const body = rows
    .map((r) => {
      const ch = formatChange(r);
      const cells = [
        `<code>${esc(r.key)}</code>`,
        esc(shownValue(r, 'base')),
        esc(shownValue(r, 'candidate')),
        esc(ch.abs),
        esc(ch.rel),
        esc(statusText(r)),
        ...(withReason ? [esc(r.reason)] : []),
      ];
      const cls =
        r.status === 'worse'
          ? 'worse'
          : r.status === 'better'
            ? 'better'
            : r.status === 'info' || r.status === 'n/a'
              ? 'quiet'
              : '';
      return `<tr data-metric="${esc(r.key)}" data-status="${r.status}"${cls ? ` class="${cls}"` : ''}>${cells.map((c, i) => `<td${num[i] ? ' class="num"' : ''}>${c}</td>`).join('')}</tr>`;
    })
    .join('');
  return `<table id="${id}"><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`;
}

function configCard(c: Comparison): string {
  const items = c.configuration
    .filter((i) => !i.same)
    .map(
      (i) =>
        `<li class="differs" data-field="${esc(i.field)}">${esc(i.field)}: ${esc(i.base)} → ${esc(i.candidate)}</li>`,
    );
  // Unchanged knobs of the embedded target are its profile's: naming the profile says them.
  const same = c.configuration.filter((i) => i.same && !i.field.startsWith('target.'));
  if (same.length > 0)
    items.push(`<li class="same">same: ${same.map((i) => `${esc(i.field)} ${esc(i.base)}`).join(' · ')}</li>`);
  const notes = [...c.scenarioDifferences.map((d) => `${d} (compared anyway)`), ...c.notes].map(
    (n) => `<li>${esc(n)}</li>`,
  );
  const title = c.configuration.some((i) => !i.same)
    ? 'Configuration (differences first)'
    : 'Configuration (the same on both sides)';
  return `<section class="card" id="card-config"><h2>${title}</h2><ul class="config">${items.join('')}</ul>${notes.length > 0 ? `<div class="banner saturated"><ul>${notes.join('')}</ul></div>` : ''}</section>`;
}

/** Each latency series' samples, pooled over a side's runs. */
function latencyCharts(base: readonly Results[], cand: readonly Results[]): string {
  const keys = [
    ...new Set([...base, ...cand].flatMap((r) => Object.keys(r.latency).filter((k) => (r.latency[k]?.count ?? 0) > 0))),
  ];
  const pooled = (runs: readonly Results[], key: string) =>
    mergeDistributions(runs.map((r) => fromEncoded(r.latency[key]?.count ? (r.latency[key]?.histogram ?? '') : '')));
  return keys.map((k) => chartPercentiles(k, pooled(base, k), pooled(cand, k))).join('\n');
}

export function renderCompareHtml(c: Comparison, base: readonly Results[], cand: readonly Results[]): string {
  const scenario = c.base[0]?.scenario ?? '';
  const regressed = c.verdict === 'regressed';
  const moved = movedRows(c);
  const rest = c.rows.filter(
    (r) => !moved.includes(r) && (r.status !== 'n/a' || r.base !== null || r.candidate !== null),
  );
  const sides = [
    { side: 'base' as const, runs: base },
    { side: 'cand' as const, runs: cand },
  ];
  const runList = (label: string, refs: Comparison['base']): string =>
    `${label} ${refs.map((r) => `<code>${esc(r.runId)}</code>`).join(', ')}`;
  return `<!DOCTYPE html>
<html lang="en" data-verdict="${c.verdict}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(`herd compare · ${scenario}`)}</title>
<style>${REPORT_CSS}${COMPARE_CSS}</style>
</head>
<body>
<main>
<header><h1>herd compare · ${esc(scenario)}<span class="badge ${regressed ? 'regressed' : 'passed'}" id="verdict">${regressed ? 'REGRESSED' : 'PASSED'}</span></h1>
<p class="sub">${runList(`base (${pluralRuns(c.base.length)})`, c.base)} vs ${runList(`candidate (${pluralRuns(c.candidate.length)})`, c.candidate)}</p>
<p id="headline"><strong>${esc(headline(c))}</strong></p></header>
${configCard(c)}
<section class="card" id="card-moved"><h2>${moved.length === 0 ? 'Nothing moved beyond noise' : `Moved beyond noise (${moved.length})`}</h2>${moved.length > 0 ? rowsTable('moved', moved, true) : ''}</section>
${chartConnectedOverlay(sides)}
${chartRatesOverlay(sides)}
${latencyCharts(base, cand)}
<section class="card" id="card-rows"><h2>Everything else</h2><p class="hint">${shareDefinitions(rest).map(esc).join('<br>')}</p>${rowsTable('rows', rest, true)}</section>
<footer>herd compare · a change counts only beyond its tolerance, its noise floor and the significance test (docs/reports.md)</footer>
</main>
<script>${RENDER_CHECK}</script>
</body>
</html>
`;
}
