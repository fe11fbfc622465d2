/**
 * Cohorts and event waves → k6 (pure). k6 has no notion of a device that drops and comes back
 * on its own schedule, so reconnect policies, outages and churn are listed as not expressible;
 * each construct maps through one function so a later mapping has one place to go.
 */
import type { EventWave, ResolvedCohort, ResolvedDevice, ResolvedReconnect } from '../results/resolved-scenario.js';

/** What the script cannot reproduce about the fleet's cohorts (empty for one plain cohort). */
export function cohortNotes(cohorts: readonly ResolvedCohort[] | undefined, base: ResolvedDevice): string[] {
  if (cohorts === undefined) return [];
  const notes: string[] = [];
  if (cohorts.length > 1) {
    notes.push(
      `cohorts: the fleet is split into ${cohorts.map((c) => `"${c.name}" (${Math.round(c.share * 1000) / 10}%)`).join(', ')}; ` +
        'the script gives every device the scenario-wide device options',
    );
  }
  for (const c of cohorts) {
    if (cohorts.length > 1 && !sameDevice(c.device, base)) notes.push(`cohort "${c.name}": its own device options are not applied`);
    const r = reconnectNote(c.reconnect);
    if (r !== null) notes.push(`cohort "${c.name}": ${r}`);
    if (c.targets !== null && c.targets.length > 0) {
      notes.push(`cohort "${c.name}": failover targets ${c.targets.join(', ')} are not used (xk6-mqtt's "servers" option could, but herd's failover order is not reproduced)`);
    }
  }
  return notes;
}

function reconnectNote(r: ResolvedReconnect): string | null {
  if (r.policy === 'none') return null;
  return `reconnect policy "${r.policy}" — a k6 iteration is one connect; the script never reconnects (xk6-mqtt's own auto-reconnect has no backoff or jitter settings)`;
}

function sameDevice(a: ResolvedDevice, b: ResolvedDevice): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Waves that act on connected devices rather than connect them. */
export function eventWaveNote(w: EventWave): string {
  switch (w.type) {
    case 'outage':
      return `wave "${w.name}": outage (${w.mode}, ${Math.round(w.share * 1000) / 10}% of ${w.cohort === null ? 'the fleet' : `cohort "${w.cohort}"`}, offline ${w.offlineUs / 1e6}s) — k6 cannot cut connections it holds from outside an iteration; the script skips it`;
    case 'churn':
      return `wave "${w.name}": churn (${w.perMinute}/min over ${w.overUs / 1e6}s) — devices do not drop and reconnect in the script; it skips it`;
  }
}
