/** Names and small formatting shared by the report renderers (pure). */
import type { LatencySummary, Results, TimelineBucket } from '../results/types.js';

/** Known latency keys in reading order, with the label a person sees. */
export const PHASE_LABELS: readonly (readonly [string, string])[] = [
  ['connect.total', 'total (from intended)'],
  ['connect.service', 'service (from socket)'],
  ['connect.scheduleLag', 'schedule lag'],
  ['phase.dns', 'dns'],
  ['phase.tcpConnect', 'tcpConnect'],
  ['phase.tlsHandshake', 'tlsHandshake'],
  ['phase.wsUpgrade', 'wsUpgrade'],
  ['phase.mqttConnack', 'mqttConnack'],
  ['connect.failed', 'time to failure'],
];

export function phaseLabel(key: string): string {
  return PHASE_LABELS.find(([k]) => k === key)?.[1] ?? key;
}

/** Latency series with samples: known keys first in their order, then any others by name. */
export function latencyRows(r: Results): [key: string, label: string, summary: LatencySummary][] {
  const known = PHASE_LABELS.map(([k]) => k);
  const keys = Object.keys(r.latency).sort((a, b) => {
    const ia = known.indexOf(a);
    const ib = known.indexOf(b);
    return (ia < 0 ? known.length : ia) - (ib < 0 ? known.length : ib) || a.localeCompare(b);
  });
  const rows: [string, string, LatencySummary][] = [];
  for (const k of keys) {
    const s = r.latency[k];
    if (s && s.count > 0) rows.push([k, phaseLabel(k), s]);
  }
  return rows;
}

export function percentOf(n: number, of: number, digits = 1): string {
  return of === 0 ? '–' : `${((n / of) * 100).toFixed(digits)}%`;
}

export function describeWave(w: Results['scenario']['waves'][number]): string {
  const at = `at ${w.atUs / 1e6}s`;
  switch (w.type) {
    case 'ramp':
      return `ramp ${w.devices} over ${w.overUs / 1e6}s ${at}`;
    case 'spike':
      return `spike ${w.devices} ${at}`;
    case 'steps':
      return `${w.steps} steps of ${Math.round(w.devices / Math.max(1, w.steps))} every ${w.everyUs / 1e6}s ${at}`;
    case 'rate':
      return `${w.rate}/s (${w.arrival}) over ${w.overUs / 1e6}s ${at}`;
    case 'outage':
      return `outage (${w.mode}) of ${Math.round(w.share * 100)}%${w.cohort === null ? '' : ` of cohort ${w.cohort}`} for ${w.offlineUs / 1e6}s ${at}`;
    case 'churn':
      return `churn ${Math.round(w.perMinute * 100)}%/min over ${w.overUs / 1e6}s ${at}`;
  }
}

/** Most successful connects in one timeline second from second `fromS` on. */
export function peakSucceededPerS(buckets: readonly TimelineBucket[], fromS = 0): number {
  return buckets.reduce((m, b) => (b.t >= fromS && b.succeeded > m ? b.succeeded : m), 0);
}
