/** The terminal summary, rendered from results.json alone (pure; colour through the given painter). */
import { signalsSummaryLines } from './server-signals.js';
import { downlinkSummaryLines } from './downlink.js';
import { deliverySummaryLines } from './delivery.js';
import type { Results } from '../results/types.js';
import { formatUs } from '../util/duration.js';
import {
  engineText,
  namesText,
  warmUpText,
  fleetLostText,
  failedThresholdLines,
  isConnectError,
  outagePeakAfterEnd,
  outageText,
  runFacts,
  saturationLines,
  verdictText,
} from './facts.js';
import { checkedForText } from './checked.js';

export interface Paint {
  ok(s: string): string;
  bad(s: string): string;
  warn(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

export const PLAIN: Paint = { ok: (s) => s, bad: (s) => s, warn: (s) => s, dim: (s) => s, bold: (s) => s };

const PHASES: [string, string][] = [
  ['connect.total', 'total (from intended)'],
  ['connect.service', 'service (from socket)'],
  ['connect.scheduleLag', 'schedule lag'],
  ['phase.tcpConnect', 'tcpConnect'],
  ['phase.dns', 'dns'],
  ['phase.tlsFull', 'tlsHandshake (full)'],
  ['phase.tlsResumed', 'tlsHandshake (resumed)'],
  ['phase.wsUpgrade', 'wsUpgrade'],
  ['phase.mqttConnack', 'mqttConnack'],
  ['message.subscribeAck', 'subscribe → SUBACK'],
  ['message.publishAck', 'publish → ack'],
  ['delivery.latency', 'delivery (end to end)'],
  ['request.roundTrip', 'request round trip'],
  ['downlink.latency', 'downlink delivery'],
  ['replay.drain', 'replay: drained'],
  ['replay.duration', 'replay: first → last'],
  ['connect.failed', 'time to failure'],
];

/** Devices not back count in attempts per device with their attempts so far: say how many. */
function notBackText(o: Results['outages'][number]): string {
  const notBack = o.dropped - o.recovered;
  return notBack > 0 ? ` (${notBack} not back: attempts so far)` : '';
}

function renderOutages(r: Results, p: Paint): string[] {
  if (!r.outages || r.outages.length === 0) return [];
  const out = [
    p.bold('Recovery') + p.dim(' (time from the end of the outage until that share of hit devices is back)'),
  ];
  for (const o of r.outages) {
    out.push(`  ${outageText(o, outagePeakAfterEnd(r, o))}`);
    out.push(
      p.dim(
        `    attempts per device p50 ${o.reconnectAttempts.p50} · p99 ${o.reconnectAttempts.p99} · max ${o.reconnectAttempts.max}` +
          notBackText(o) +
          ` · from its start: peak ${o.peakAttemptsPerS} attempts/s · peak ${o.peakHandshaking} handshakes in flight`,
      ),
    );
  }
  out.push('');
  return out;
}

function renderErrors(r: Results, p: Paint): string[] {
  if (r.errors.length === 0) return [p.ok('No errors.'), ''];
  const f = runFacts(r);
  const out: string[] = [];
  const groups: [string, typeof r.errors][] = [
    [`Connect errors${p.dim(` (${f.errorsRate})`)}`, r.errors.filter(isConnectError)],
    [f.sessionsLost, r.errors.filter((e) => e.phase === 'held')],
    ['Message errors', r.errors.filter((e) => !isConnectError(e) && e.phase !== 'held')],
  ];
  for (const [title, list] of groups) {
    if (list.length === 0) continue;
    out.push(p.bold(title) + p.dim('  origin · phase · code · count'));
    for (const e of list.slice(0, 12)) {
      const line = `  ${e.origin.padEnd(9)}${e.phase.padEnd(13)}${e.code.padEnd(26)}${e.count}`;
      out.push(e.origin === 'local' ? p.warn(line + '  ← the harness, not the target') : p.bad(line));
    }
    if (list.length > 12) out.push(p.dim(`  … ${list.length - 12} more in results.json`));
  }
  if (f.shedding) out.push(p.warn(`  ${f.shedding}`));
  out.push('');
  return out;
}

function renderWebhook(r: Results, p: Paint): string[] {
  const w = r.webhook;
  if (!w) return [];
  const line =
    `  sent ${w.sent} · delivered ${w.delivered} · lost ${w.lost} (${(w.lossRate * 100).toFixed(3)}%) · duplicated ${w.duplicated}` +
    ` · out of order ${w.outOfOrder}` +
    (w.tooLate > 0 ? ` · too late ${w.tooLate}` : '') +
    (w.foreign > 0 ? ` · foreign ${w.foreign}` : '') +
    (w.malformed > 0 ? ` · malformed ${w.malformed}` : '') +
    (w.rejected > 0 ? ` · rejected ${w.rejected}` : '') +
    (w.latency ? ` · latency p50 ${formatUs(w.latency.p50Us)} p99 ${formatUs(w.latency.p99Us)}` : '');
  return [
    p.bold('Webhook') + p.dim(' (messages the target forwarded to --webhook-sink)'),
    w.lost > 0 || w.duplicated > 0 ? p.bad(line) : line,
    '',
  ];
}

function renderCohorts(r: Results, p: Paint): string[] {
  const names = Object.keys(r.cohorts ?? {});
  if (names.length <= 1) return [];
  const out = [p.bold('Cohorts') + p.dim('   devices  started  succeeded  failed  timeout  connect p99  policy')];
  for (const n of names) {
    const c = r.cohorts[n];
    if (!c) continue;
    const p99 = c.latency['connect.total']?.p99Us;
    out.push(
      `  ${n.padEnd(16)}${String(c.devices).padStart(7)}${String(c.attempts.started).padStart(9)}` +
        `${String(c.attempts.succeeded).padStart(11)}${String(c.attempts.failed).padStart(8)}` +
        `${String(c.attempts.timedOut).padStart(9)}${(p99 === undefined ? '–' : formatUs(p99)).padStart(13)}` +
        `  ${c.reconnectPolicy}`,
    );
  }
  out.push('');
  return out;
}

export function renderSummary(unsafe: Results, p: Paint = PLAIN): string {
  // Names come from users and files: their control characters are shown escaped, never raw.
  const r = checkedForText(unsafe);
  const out: string[] = [];
  const a = r.attempts;
  const status = r.run.status === 'aborted' ? p.warn(`ABORTED (${r.run.abortReason ?? 'interrupted'})`) : 'completed';
  out.push(p.bold(`herd · ${r.scenario.name}`) + p.dim(`  run ${r.run.id}`));
  const f = runFacts(r);
  out.push(
    `  target ${f.target} · ${r.scenario.devices} devices · ` +
      `${r.run.workers} worker${r.run.workers === 1 ? '' : 's'} · seed ${r.scenario.seed}` +
      (r.scenario.scale !== 1 ? ` · scale ${r.scenario.scale}` : '') +
      ` · ${(r.run.durationMs / 1000).toFixed(1)}s · ${status}`,
  );
  const lost = fleetLostText(r);
  if (lost !== null) out.push(p.bad(`  ${lost}`));
  const engine = engineText(r);
  if (engine !== null) out.push(`  ${engine}`);
  const names = namesText(r);
  if (names !== null) out.push(`  names ${names}`);
  const warm = warmUpText(r);
  if (warm !== null) out.push(p.dim(`  warm-up ${warm}`));
  out.push('');
  // Why first: the verdict, the thresholds that failed, then the harness's note on itself.
  const verdict = verdictText(r);
  out.push(r.run.verdict === 'passed' ? p.ok(p.bold(verdict)) : p.bad(p.bold(verdict)));
  for (const line of failedThresholdLines(r)) out.push(p.bad(`  ${line}`));
  out.push('');
  const sat = saturationLines(r);
  if (sat) {
    out.push(p.warn(p.bold(`⚠ ${sat.title}`)));
    for (const line of sat.lines) out.push(p.warn(`  - ${line}`));
    out.push('');
  }
  out.push(p.bold('Attempts'));
  out.push(`  planned ${a.planned} · started ${a.started} · ${p.ok(f.success)}`);
  const bad = (text: string, n: number): string => (n > 0 ? p.bad(text) : text);
  out.push(
    `  ${bad(f.connectFailures, a.failed + a.timedOut)} · ${bad(`dropped ${a.dropped}`, a.dropped)} · in flight at end ${a.inFlightAtEnd}`,
  );
  if (a.reconnects > 0 || a.offline > 0 || a.gaveUp > 0) {
    out.push(`  reconnects ${a.reconnects} · attempts while offline (never sent) ${a.offline} · gave up ${a.gaveUp}`);
  }
  out.push(r.accounting.balanced ? p.dim(`  ✓ ${r.accounting.detail}`) : p.bad(`  ✗ ${r.accounting.detail}`));
  out.push(`  ${f.peaks}`);
  out.push(`  ${bad(f.sessionsLost, r.storm.disconnects)} · ${r.storm.outageDrops} dropped by outage waves`);
  out.push('');
  out.push(...deliverySummaryLines(r, p)); // issue 24
  out.push(...renderWebhook(r, p));
  out.push(...signalsSummaryLines(r)); // issue 16
  out.push(...downlinkSummaryLines(r, p.bad));
  if (r.requests) {
    out.push(p.bold('Requests') + p.dim(' (cloud → device, answered on the reply topic)'));
    const line = `  sent ${r.requests.sent} · answered ${r.requests.answered} · lost ${r.requests.lost}`;
    out.push(r.requests.lost > 0 ? p.bad(line) : line);
    out.push('');
  }
  out.push(...renderOutages(r, p));
  out.push(...renderCohorts(r, p));
  out.push(p.bold('Latency') + p.dim('        count      min      p50      p90      p99    p99.9      max'));
  for (const [key, label] of PHASES) {
    const s = r.latency[key];
    if (!s || s.count === 0) continue;
    const cells = [s.minUs, s.p50Us, s.p90Us, s.p99Us, s.p999Us, s.maxUs].map((v) => formatUs(v).padStart(8)).join(' ');
    out.push(`  ${label.padEnd(22)}${String(s.count).padStart(7)} ${cells}`);
  }
  out.push('');
  out.push(...renderErrors(r, p));
  if ((r.health.workerFailures ?? []).length > 0) {
    out.push(
      p.bad(p.bold('✗ Worker processes died — their devices are lost to the harness, not counted against the target:')),
    );
    for (const f of r.health.workerFailures) out.push(p.bad(`  - ${f}`));
    out.push('');
  }
  if (r.thresholds.length > 0) {
    out.push(p.bold('Thresholds'));
    for (const t of r.thresholds) {
      const mark = t.passed ? p.ok('✓') : p.bad('✗');
      out.push(`  ${mark} ${t.metric}: ${t.expression}  ${p.dim(`observed ${t.observedText}`)}`);
    }
  }
  return out.join('\n').trimEnd();
}
