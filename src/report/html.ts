/**
 * report.html (pure): one self-contained page — inline CSS, inline SVG charts, no network access,
 * no chart library. A ten-line inline script only measures the drawn chart paths and dots and stamps the
 * result on the page (data-charts-rendered), so a headless browser can prove the charts rendered.
 */
import { signalsHtml } from './server-signals.js';
import { downlinkHtml } from './downlink.js';
import { deliveryHtml } from './delivery.js';
import type { Results } from '../results/types.js';
import { formatUs } from '../util/duration.js';
import { xmlEscape as esc } from './junit.js';
import { describeWave, latencyRows, percentOf } from './labels.js';
import {
  engineText,
  namesText,
  fleetLostText,
  failedThresholdLines,
  isConnectError,
  outagePeakAfterEnd,
  runFacts,
  saturationLines,
  timelinePeaks,
  verdictText,
} from './facts.js';
import { chartConnected, chartDistribution, chartLatencyOverTime, chartOutcomes } from './html-charts.js';
import { REPORT_CSS } from './html-style.js';
import { withCheckedAccounting } from './checked.js';

const RENDER_CHECK = `(function(){var ps=document.querySelectorAll('svg.chart path.series, svg.chart g.dots'),ok=0;
for(var i=0;i<ps.length;i++){var b=ps[i].getBBox();ps[i].setAttribute('data-rendered-box',Math.round(b.width)+'x'+Math.round(b.height));if(b.width>0||b.height>0)ok++;}
document.documentElement.setAttribute('data-charts-rendered',String(ok));})();`;

function kpi(label: string, value: string, tone: '' | 'ok' | 'bad' = ''): string {
  return `<div class="kpi ${tone}"><div class="v">${esc(value)}</div><div class="l">${esc(label)}</div></div>`;
}

function tableHtml(
  id: string,
  head: string[],
  rows: string[][],
  numeric: boolean[] = [],
  rowClass: (i: number) => string = () => '',
): string {
  const th = head.map((h, i) => `<th${numeric[i] ? ' class="num"' : ''}>${esc(h)}</th>`).join('');
  const body = rows
    .map(
      (r, ri) =>
        `<tr${rowClass(ri) ? ` class="${rowClass(ri)}"` : ''}>${r.map((c, i) => `<td${numeric[i] ? ' class="num"' : ''}>${c}</td>`).join('')}</tr>`,
    )
    .join('');
  return `<table id="${id}"><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`;
}

/** Why first: the verdict and the thresholds that failed, before the harness's note. */
function whyCard(r: Results): string {
  const failed = failedThresholdLines(r);
  const list =
    failed.length === 0 ? '' : `<ul>${failed.map((x) => `<li class="mark-bad">${esc(x)}</li>`).join('')}</ul>`;
  return `<section class="card" id="why"><h2>${esc(verdictText(r))}</h2>${list}</section>`;
}

function banners(r: Results): string {
  const out: string[] = [];
  const sat = saturationLines(r);
  if (sat) {
    out.push(
      `<div class="banner saturated" id="saturation-banner" role="alert" data-affects-verdict="${r.health.affectsVerdict}"><strong>⚠ ${esc(sat.title)}</strong><ul>` +
        sat.lines.map((x) => `<li>${esc(x)}</li>`).join('') +
        '</ul></div>',
    );
  }
  const lost = fleetLostText(r);
  if (lost !== null)
    out.push(`<div class="banner aborted" id="fleet-lost-banner" role="alert"><strong>${esc(lost)}</strong></div>`);
  if (r.run.status === 'aborted') {
    out.push(
      `<div class="banner aborted" id="aborted-banner" role="alert"><strong>Aborted:</strong> ${esc(r.run.abortReason ?? 'interrupted')} — a partial report.</div>`,
    );
  }
  if (!r.accounting.balanced) {
    out.push(
      `<div class="banner aborted" id="accounting-banner" role="alert"><strong>Accounting mismatch:</strong> ${esc(r.accounting.detail)} — the run is invalid.</div>`,
    );
  }
  return out.join('');
}

function kpis(r: Results): string {
  const a = r.attempts;
  const f = runFacts(r);
  const total = r.latency['connect.total'];
  const connectBad = a.failed + a.timedOut;
  return (
    '<div class="kpis" id="kpis">' +
    kpi(
      `of ${a.started} started`,
      `${percentOf(a.succeeded, a.started)} succeeded`,
      a.succeeded === a.started ? 'ok' : '',
    ) +
    kpi('connects failed · timed out', `${a.failed} · ${a.timedOut}`, connectBad > 0 ? 'bad' : '') +
    kpi(
      `sessions lost of ${a.succeeded} established`,
      String(r.storm.disconnects),
      r.storm.disconnects > 0 ? 'bad' : '',
    ) +
    kpi('dropped', String(a.dropped), a.dropped > 0 ? 'bad' : '') +
    kpi('connect p99', total && total.count > 0 ? formatUs(total.p99Us) : '–') +
    kpi('peak successes/s', String(timelinePeaks(r).succeededPerS)) +
    kpi('peak attempts/s', String(timelinePeaks(r).attemptsPerS)) +
    '</div>' +
    `<p class="facts" id="facts"><span id="fact-success">${esc(f.success)}</span> · <span id="fact-connect">${esc(f.connectFailures)}</span> · ` +
    `<span id="fact-sessions">${esc(f.sessionsLost)}</span><br><span id="fact-peaks">${esc(f.peaks)}</span>` +
    (f.shedding ? `<br><span id="fact-shedding">${esc(f.shedding)}</span>` : '') +
    (a.offline > 0 ? `<br>${a.offline} attempts while offline were never sent and are not in the share.` : '') +
    '</p>'
  );
}

function thresholdsCard(r: Results): string {
  const body =
    r.thresholds.length === 0
      ? '<p class="hint">This scenario sets no thresholds.</p>'
      : tableHtml(
          'thresholds',
          ['', 'metric', 'expression', 'observed'],
          r.thresholds.map((t) => [
            t.passed ? '<span class="mark-ok">✓</span>' : '<span class="mark-bad">✗</span>',
            `<code>${esc(t.metric)}</code>`,
            `<code>${esc(t.expression)}</code>`,
            esc(t.observedText),
          ]),
          [false, false, false, true],
          (i) => (r.thresholds[i]?.passed === false ? 'fail' : ''),
        );
  return `<section class="card" id="card-thresholds"><h2>Thresholds</h2>${body}</section>`;
}

function latencyCard(r: Results): string {
  const rows = latencyRows(r).map(([key, label, s]) => [
    `${esc(label)} <code>${esc(key)}</code>`,
    String(s.count),
    ...[s.minUs, s.meanUs, s.p50Us, s.p90Us, s.p99Us, s.p999Us, s.maxUs].map(formatUs),
  ]);
  const body =
    rows.length === 0
      ? '<p class="hint">No latency samples.</p>'
      : tableHtml('latency-table', ['phase', 'count', 'min', 'mean', 'p50', 'p90', 'p99', 'p99.9', 'max'], rows, [
          false,
          true,
          true,
          true,
          true,
          true,
          true,
          true,
          true,
        ]);
  return `<section class="card" id="card-latency"><h2>Latency per phase</h2>${body}</section>`;
}

function errorsCard(r: Results): string {
  const body =
    r.errors.length === 0
      ? '<p class="hint">No errors.</p>'
      : `<p class="hint">Connect attempts: ${esc(runFacts(r).errorsRate)}. Sessions: ${esc(runFacts(r).sessionsLost)}. <em>local</em> errors are the harness’s own, never the target’s.</p>` +
        (runFacts(r).shedding
          ? `<p class="hint" id="shedding">Load shedding: ${esc(runFacts(r).shedding ?? '')}.</p>`
          : '') +
        tableHtml(
          'errors-table',
          ['origin', 'phase', 'code', 'count', 'of'],
          r.errors.map((e) => [
            esc(e.origin),
            esc(e.phase),
            `<code>${esc(e.code)}</code>`,
            String(e.count),
            isConnectError(e)
              ? `${percentOf(e.count, r.attempts.started, 2)} of started`
              : e.phase === 'held'
                ? `${percentOf(e.count, r.attempts.succeeded, 2)} of established`
                : '',
          ]),
          [false, false, false, true, true],
        );
  return `<section class="card" id="card-errors"><h2>Errors by origin and code</h2>${body}</section>`;
}

function outagesCard(r: Results): string {
  const outages = r.outages ?? [];
  if (outages.length === 0) return '';
  const never = (v: number | null): string => (v === null ? '<span class="mark-bad">never</span>' : formatUs(v));
  const table = tableHtml(
    'outages-table',
    [
      'outage',
      'at',
      'offline',
      'mode',
      'hit',
      'recovered',
      'recovery p50',
      'p90',
      'p99',
      'all',
      'attempts/device p50 · p99 · max',
      'peak attempts/s',
      'peak successes/s after it ended',
    ],
    outages.map((o) => [
      esc(o.name),
      formatUs(o.atUs),
      formatUs(o.offlineUs),
      esc(o.mode),
      String(o.dropped),
      String(o.recovered),
      ...[o.recovery.p50Us, o.recovery.p90Us, o.recovery.p99Us, o.recovery.p100Us].map((v) =>
        o.dropped === 0 ? '–' : never(v),
      ),
      `${o.reconnectAttempts.p50} · ${o.reconnectAttempts.p99} · ${o.reconnectAttempts.max}`,
      String(o.peakAttemptsPerS),
      String(outagePeakAfterEnd(r, o)),
    ]),
    [false, true, true, false, true, true, true, true, true, true, true, true, true],
  );
  const lines = runFacts(r)
    .outages.map((x) => `<li>${esc(x)}</li>`)
    .join('');
  return `<section class="card" id="card-outages"><h2>Outages and recovery</h2><p class="hint">Recovery: time from the end of each outage until that share of the devices it hit was connected again; peak attempts/s from the outage’s start, peak successes/s from its end.</p>${table}<ul id="outage-lines">${lines}</ul></section>`;
}

function metaCard(r: Results): string {
  const s = r.scenario;
  const e = r.environment;
  const dl = (id: string, items: [string, string][]): string =>
    `<dl class="meta" id="${id}">${items.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`;
  const run = dl('run-meta', [
    ['run id', r.run.id],
    ['status', r.run.status + (r.run.abortReason ? ` (${r.run.abortReason})` : '')],
    ['verdict', `${r.run.verdict} (exit ${r.run.exitCode})`],
    ['started', r.run.startedAt],
    ['duration', `${(r.run.durationMs / 1000).toFixed(1)}s`],
    ['target', runFacts(r).target],
    ['connect path', engineText(r)?.replace(/^engine /, '') ?? 'not recorded'],
    ['--allow-saturated', r.run.allowSaturated ? 'given' : 'not given'],
    ['scenario', `${s.name}${s.description ? ` — ${s.description}` : ''}`],
    [
      'devices',
      `${s.devices}${s.scale !== 1 ? ` (scale ${s.scale})` : ''}, MQTT ${s.device.mqttVersion === 4 ? '3.1.1' : '5'}` +
        `, keepalive ${formatUs(s.device.keepaliveUs)}, timeout ${formatUs(s.device.connectTimeoutUs)}`,
    ],
    ['waves', s.waves.map((w) => `${w.name}: ${describeWave(w)}`).join('; ')],
    ['teardown at', formatUs(s.durationUs)],
    ['seed', String(s.seed)],
    ['workers', String(r.run.workers)],
    ...(namesText(r) !== null ? [['host names', namesText(r) as string] as [string, string]] : []),
    ...(r.run.shard ? [['shard', `${r.run.shard.index} of ${r.run.shard.count}`] as [string, string]] : []),
    ...(r.run.mergedFrom ? [['merged from', r.run.mergedFrom.join(', ')] as [string, string]] : []),
  ]);
  const env = dl('env-meta', [
    ['herd', `${r.tool.version} (results schema ${r.schemaVersion})`],
    ['node', e.node],
    ['os', `${e.platform} ${e.release} ${e.arch}`],
    ['cpu', `${e.cpus} × ${e.cpuModel}`],
    ['memory', `${(e.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB`],
    ['open files', `soft ${e.openFileLimit.soft ?? '?'} / hard ${e.openFileLimit.hard ?? '?'}`],
    ['ephemeral ports', e.ephemeralPortRange ? `${e.ephemeralPortRange[0]}–${e.ephemeralPortRange[1]}` : 'unknown'],
  ]);
  return `<div class="two"><section class="card" id="card-run"><h2>Run</h2>${run}</section><section class="card" id="card-env"><h2>Machine</h2>${env}</section></div>`;
}

function healthCard(r: Results): string {
  if (r.health.workers.length === 0) return '';
  const rows = r.health.workers.map((w) => [
    String(w.worker),
    String(w.devices),
    formatUs(w.peakLoopDelayP99Us),
    `${Math.round(w.peakLoopUtilisation * 100)}%`,
    `${w.peakCpuPercent.toFixed(0)}%`,
    `${(w.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
    String(w.peakOpenFiles),
    formatUs(w.peakScheduleLagUs),
    w.exitedEarly ? '<span class="mark-bad">yes</span>' : 'no',
  ]);
  const table = tableHtml(
    'health-table',
    ['worker', 'devices', 'loop delay p99', 'loop busy', 'cpu', 'rss', 'open files', 'schedule lag', 'exited early'],
    rows,
    [true, true, true, true, true, true, true, true, false],
  );
  return `<section class="card" id="card-health"><h2>Harness health (peaks per worker)</h2>${table}</section>`;
}

export function renderHtml(unsafe: Results): string {
  // A results file is input: its accounting identity is checked again, not taken as written.
  const r = withCheckedAccounting(unsafe);
  const passed = r.run.verdict === 'passed';
  const title = `herd · ${r.scenario.name} · ${r.run.id}`;
  const engine = engineText(r);
  return `<!DOCTYPE html>
<html lang="en" data-verdict="${r.run.verdict}" data-saturated="${r.health.saturated}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="herd ${esc(r.tool.version)}">
<title>${esc(title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<main>
<header><h1>herd · ${esc(r.scenario.name)}<span class="badge ${passed ? 'passed' : 'failed'}" id="verdict">${passed ? 'PASSED' : 'FAILED'}</span></h1>
<p class="sub" id="header-sub">run ${esc(r.run.id)} · ${esc(r.run.startedAt)} · ${r.scenario.devices} devices
 → ${esc(runFacts(r).target)} · ${(r.run.durationMs / 1000).toFixed(1)}s${engine === null ? '' : ` · ${esc(engine)}`}</p></header>
${whyCard(r)}
${banners(r)}
${kpis(r)}
${chartConnected(r)}
${chartOutcomes(r)}
${chartLatencyOverTime(r)}
${chartDistribution(r)}
${thresholdsCard(r)}
${latencyCard(r)}
${errorsCard(r)}
${signalsHtml(r, esc)}
${deliveryHtml(r, esc)}
${downlinkHtml(r, esc)}
${outagesCard(r)}
${metaCard(r)}
${healthCard(r)}
<footer>Rendered from results.json by herd ${esc(r.tool.version)} · re-render with <code>herd report results.json --format html</code></footer>
</main>
<script>${RENDER_CHECK}</script>
</body>
</html>
`;
}
