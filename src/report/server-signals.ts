/**
 * The "Server signals" part of every report (issue 16): what MQTT 5 servers told the devices
 * (CONNACK/DISCONNECT reason codes, Server Keep Alive, Server Reference) and what the devices did,
 * rendered from results.json `serverSignals`. One function per format, each empty when no signal came.
 */
import type { Results } from '../results/types.js';

const MEANING: Readonly<Record<string, string>> = {
  DISCONNECT_8E: 'session taken over (client id reused)',
  DISCONNECT_96: 'message rate too high',
  DISCONNECT_97: 'quota exceeded',
  DISCONNECT_9C: 'use another server',
  DISCONNECT_9D: 'server moved',
  CONNACK_89: 'server busy',
  CONNACK_97: 'quota exceeded',
  CONNACK_9C: 'use another server',
  CONNACK_9D: 'server moved',
  CONNACK_9F: 'connection rate exceeded',
  takenOver: 'devices whose client id was taken over',
  referenceFollowed: 'moved to a Server Reference among their loopback targets',
  referenceRefused: 'Server References not followed (not one of their targets, or policy does not move)',
  keepaliveAdopted: 'sessions that adopted the Server Keep Alive',
};

export function signalRows(r: Results): { key: string; count: number; meaning: string }[] {
  return Object.entries(r.serverSignals ?? {}).map(([key, count]) => ({
    key,
    count,
    meaning: MEANING[key] ?? (key.startsWith('CONNACK_00') ? 'accepted, with server properties' : ''),
  }));
}

export function signalsSummaryLines(r: Results): string[] {
  const rows = signalRows(r);
  if (rows.length === 0) return [];
  return [
    'Server signals (MQTT 5: what the target told the devices, and what they did)',
    `  ${rows.map((x) => `${x.key} ${x.count}`).join(' · ')}`,
    '',
  ];
}

export function signalsMarkdown(r: Results): string[] {
  const rows = signalRows(r);
  if (rows.length === 0) return [];
  return [
    '### Server signals',
    '',
    '| signal | count | meaning |',
    '|---|--:|---|',
    ...rows.map((x) => `| \`${x.key}\` | ${x.count} | ${x.meaning} |`),
    '',
  ];
}

export function signalsHtml(r: Results, esc: (s: string) => string): string {
  const rows = signalRows(r);
  if (rows.length === 0) return '';
  const body = rows
    .map((x) => `<tr><td><code>${esc(x.key)}</code></td><td class="num">${x.count}</td><td>${esc(x.meaning)}</td></tr>`)
    .join('');
  return `<section class="card" id="card-server-signals"><h2>Server signals</h2><table id="server-signals-table"><thead><tr><th>signal</th><th>count</th><th>meaning</th></tr></thead><tbody>${body}</tbody></table></section>`;
}
