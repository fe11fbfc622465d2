/**
 * The "Messages" part of every report (issue 24), rendered from results.json `delivery`: who lost
 * each message, the cloud's losses first (acknowledged and never delivered), then what was never
 * acknowledged and what the devices dropped themselves; the accounting identity; duplicates from
 * the devices' own resends apart from the ones the cloud made up. One function per format.
 */
import type { DeliveryCounts, DeliveryResult } from '../results/delivery.js';
import type { Results } from '../results/types.js';
import { deliveryFacts } from './facts.js';

const pct = (n: number, of: number): string => (of === 0 ? '0%' : `${((n / of) * 100).toFixed(3)}%`);

/** The target's own count beside the cloud's losses, when the embedded target kept one (downlink's included). */
function targetSays(d: DeliveryResult, r: Results): string {
  if (d.targetDropped === null) return '';
  const dl = r.downlink ? `, downlink's ${r.downlink.lostByCloud} included` : '';
  return ` (the embedded target says it dropped ${d.targetDropped} on purpose${dl})`;
}

function duplicates(c: DeliveryCounts): string {
  return `duplicated ${c.duplicated} (by the cloud ${c.duplicatedByCloud}, by device resends ${c.duplicatedByResend})`;
}

export function deliverySummaryLines(
  r: Results,
  p: { bold(s: string): string; dim(s: string): string; bad(s: string): string },
): string[] {
  const d = r.delivery;
  if (!d) return [];
  const m = deliveryFacts(d);
  const line =
    `  ${m.headline}${targetSays(d, r)} · lost ${d.lost} of ${d.sent} sent (${pct(d.lost, d.sent)}) · ${duplicates(d)}` +
    ` · resent ${d.resent} · out of order ${d.outOfOrder} · too late ${d.tooLate}` +
    (d.queuedAtEnd > 0 ? ` · still queued on devices at the end ${d.queuedAtEnd}` : '') +
    (d.foreign > 0 ? ` · foreign ${d.foreign}` : '') +
    (d.refused > 0 ? ` · refused on device ${d.refused}` : '');
  const out = [p.bold('Messages') + p.dim(' (end to end: each device receives its own telemetry back)')];
  out.push(d.lost > 0 || d.duplicated > 0 || d.droppedByDevice > 0 ? p.bad(line) : line);
  // Files from before the split have no published count: no identity to check.
  if (d.published > 0) out.push(m.balanced ? p.dim(`  ✓ ${m.identity}`) : p.bad(`  ✗ ${m.identity}`));
  const cohorts = Object.entries(d.byCohort);
  if (cohorts.length > 1)
    for (const [n, c] of cohorts)
      out.push(
        p.dim(
          `    ${n}: lost by the cloud ${c.lostByCloud} · never acknowledged ${c.neverAcknowledged}` +
            ` · dropped by the device ${c.droppedByDevice} · delivered ${c.delivered} of ${c.published} · ${duplicates(c)}`,
        ),
      );
  out.push('');
  return out;
}

const HEAD = [
  'cohort',
  'published',
  'delivered',
  'lost by the cloud',
  'never acknowledged',
  'dropped by the device',
  'resent',
  'dup. by cloud',
  'dup. by resend',
];

function cells(c: DeliveryCounts): (string | number)[] {
  return [
    c.published,
    c.delivered,
    c.lostByCloud,
    c.neverAcknowledged,
    c.droppedByDevice,
    c.resent,
    c.duplicatedByCloud,
    c.duplicatedByResend,
  ];
}

function rows(d: DeliveryResult): [string, DeliveryCounts][] {
  const byCohort = Object.entries(d.byCohort);
  return byCohort.length > 1 ? [...byCohort, ['all', d]] : [['all', d]];
}

export function deliveryMarkdown(r: Results): string[] {
  const d = r.delivery;
  if (!d) return [];
  const m = deliveryFacts(d);
  return [
    '### Messages',
    '',
    `${m.headline}${targetSays(d, r)}.`,
    '',
    `| ${HEAD.join(' | ')} |`,
    `|---|${HEAD.slice(1)
      .map(() => '--:')
      .join('|')}|`,
    ...rows(d).map(([n, c]) => `| ${n} | ${cells(c).join(' | ')} |`),
    '',
    ...(d.published > 0 ? [`${m.balanced ? '✓' : '✗'} ${m.identity}`, ''] : []),
  ];
}

export function deliveryHtml(r: Results, esc: (s: string) => string): string {
  const d = r.delivery;
  if (!d) return '';
  const m = deliveryFacts(d);
  const head = HEAD.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows(d)
    .map(
      ([n, c]) =>
        `<tr><td>${esc(n)}</td>${cells(c)
          .map((v) => `<td class="num">${esc(String(v))}</td>`)
          .join('')}</tr>`,
    )
    .join('');
  const identity = d.published > 0 ? `<p>${m.balanced ? '✓' : '✗'} ${esc(m.identity)}</p>` : '';
  return `<section class="card" id="card-delivery"><h2>Messages</h2><p>${esc(m.headline + targetSays(d, r))}</p><table id="delivery-table"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>${identity}</section>`;
}
