/**
 * `recovery.*` and `reconnect.attempts.*` thresholds read outages; a scenario in which no outage can
 * happen, or none can be measured, makes them fail for want of a sample. Said before the run.
 */
import type { ResolvedScenario } from '../results/resolved-scenario.js';

const OUTAGE_METRICS = /^(recovery|reconnect\.attempts)\./;

export function recoveryWarnings(s: ResolvedScenario): string[] {
  const metrics = Object.keys(s.thresholds).filter((m) => OUTAGE_METRICS.test(m));
  if (metrics.length === 0) return [];
  const which = `thresholds ${metrics.join(', ')}`;
  const o = s.observedOutages;
  if (s.outageWindows.length === 0 && o === null) {
    return [
      `${which}: can get no sample — the scenario has no outage wave, no target.embedded.outages and no declaredOutages, and observedOutages is false, so no outage will be measured`,
    ];
  }
  if (s.outageWindows.length === 0 && o !== null && s.devices < o.minDevices) {
    return [
      `${which}: can get no sample — no outage wave, target.embedded.outages or declaredOutages, and observedOutages.minDevices ${o.minDevices} is more than the ${s.devices} devices, so no outage can be observed`,
    ];
  }
  if (s.cohorts.every((c) => c.reconnect.policy === 'none')) {
    return [
      `${which}: every cohort's reconnect policy is none, so a device an outage hits never comes back and recovery is "never"`,
    ];
  }
  return [];
}
