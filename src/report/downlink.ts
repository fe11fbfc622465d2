/**
 * The "Downlink & session replay" part of every report (issue 16), rendered from results.json
 * `downlink`: what the cloud sent, what the devices received, and what persistent sessions got
 * replayed on reconnect. One function per format, each empty when no cohort takes downlink messages.
 */
import type { DownlinkCounts } from '../results/downlink.js';
import type { Results } from '../results/types.js';
import { formatUs } from '../util/duration.js';

export interface DownlinkRow {
  cohort: string;
  sent: number;
  received: number;
  lost: number;
  lostByCloud: number;
  neverAcknowledged: number;
  duplicated: number;
  resumed: number;
  sessionsLost: number;
  backlog: number;
  replayed: number;
  drained: string;
  perSession: string;
}

function row(cohort: string, c: DownlinkCounts): DownlinkRow {
  const rp = c.replay;
  return {
    cohort,
    sent: c.sent,
    received: c.received,
    lost: c.lost,
    lostByCloud: c.lostByCloud,
    neverAcknowledged: c.neverAcknowledged,
    duplicated: c.duplicated,
    resumed: c.sessions.resumed,
    sessionsLost: c.sessions.lost,
    backlog: rp.backlog,
    replayed: rp.messages,
    drained: `${rp.drained}/${rp.sessions}`,
    perSession: rp.meanPerSession === null ? '—' : rp.meanPerSession.toFixed(1),
  };
}

/** One row per cohort taking downlink messages, then the total when there are several. */
export function downlinkRows(r: Results): DownlinkRow[] {
  const d = r.downlink;
  if (!d) return [];
  const rows = Object.entries(d.byCohort).map(([n, c]) => row(n, c));
  return rows.length > 1 ? [...rows, row('all', d)] : rows;
}

function timing(r: Results): string {
  const drain = r.latency['replay.drain'];
  const dur = r.latency['replay.duration'];
  if (!drain || drain.count === 0) return '';
  return (
    `backlog drained (CONNACK → last queued message) p50 ${formatUs(drain.p50Us)} · p99 ${formatUs(drain.p99Us)} · max ${formatUs(drain.maxUs)}` +
    (dur && dur.count > 0 ? `; replay (first → last) p99 ${formatUs(dur.p99Us)}` : '')
  );
}

const line = (x: DownlinkRow) =>
  `sent ${x.sent} · received ${x.received} · lost ${x.lost}` +
  ` (by the cloud ${x.lostByCloud} · never acknowledged ${x.neverAcknowledged}) · duplicated ${x.duplicated}` +
  ` · sessions resumed ${x.resumed} · sessions lost ${x.sessionsLost}` +
  ` · replayed ${x.replayed}/${x.backlog} queued (${x.perSession} per session) · drained ${x.drained}`;

export function downlinkSummaryLines(r: Results, bad: (s: string) => string): string[] {
  const rows = downlinkRows(r);
  if (rows.length === 0) return [];
  const out = ['Downlink & session replay (cloud → device, sent whether the device is online or not)'];
  for (const x of rows) {
    const text = `  ${rows.length > 1 ? `${x.cohort}: ` : ''}${line(x)}`;
    out.push(x.lost > 0 || x.sessionsLost > 0 ? bad(text) : text);
  }
  const t = timing(r);
  if (t) out.push(`  ${t}`);
  out.push('');
  return out;
}

export function downlinkMarkdown(r: Results): string[] {
  const rows = downlinkRows(r);
  if (rows.length === 0) return [];
  const t = timing(r);
  return [
    '### Downlink & session replay',
    '',
    '| cohort | sent | received | lost | lost by the cloud | never acknowledged | duplicated | sessions resumed | sessions lost | replayed / queued | per session | drained |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...rows.map(
      (x) =>
        `| ${x.cohort} | ${x.sent} | ${x.received} | ${x.lost} | ${x.lostByCloud} | ${x.neverAcknowledged}` +
        ` | ${x.duplicated} | ${x.resumed} | ${x.sessionsLost} | ${x.replayed} / ${x.backlog} | ${x.perSession}` +
        ` | ${x.drained} |`,
    ),
    '',
    ...(t ? [t, ''] : []),
  ];
}

export function downlinkHtml(r: Results, esc: (s: string) => string): string {
  const rows = downlinkRows(r);
  if (rows.length === 0) return '';
  const cells = (x: DownlinkRow) =>
    [
      x.sent,
      x.received,
      x.lost,
      x.lostByCloud,
      x.neverAcknowledged,
      x.duplicated,
      x.resumed,
      x.sessionsLost,
      `${x.replayed} / ${x.backlog}`,
      x.perSession,
      x.drained,
    ]
      .map((v) => `<td class="num">${esc(String(v))}</td>`)
      .join('');
  const body = rows.map((x) => `<tr><td>${esc(x.cohort)}</td>${cells(x)}</tr>`).join('');
  const t = timing(r);
  return `<section class="card" id="card-downlink"><h2>Downlink &amp; session replay</h2><table id="downlink-table"><thead><tr><th>cohort</th><th>sent</th><th>received</th><th>lost</th><th>lost by the cloud</th><th>never acknowledged</th><th>duplicated</th><th>sessions resumed</th><th>sessions lost</th><th>replayed / queued</th><th>per session</th><th>drained</th></tr></thead><tbody>${body}</tbody></table>${t ? `<p>${esc(t)}</p>` : ''}</section>`;
}
