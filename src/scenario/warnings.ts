/**
 * Valid scenarios that will not do what their author probably wants. `validate` prints these and
 * `run` shows them before it starts; none is fatal, because each is a legitimate thing to test.
 */
import type { ResolvedScenario } from '../results/resolved-scenario.js';

/**
 * Messages per second (publishes plus requests, fleet-wide) past which the harness, not the target,
 * is likely to be the bottleneck on a small machine; the run's saturation check then says so.
 */
export const BUSY_MESSAGE_RATE_PER_S = 100_000;

export function scenarioWarnings(s: ResolvedScenario): string[] {
  const out: string[] = [];
  const ratePerS = s.cohorts.reduce((sum, c) => {
    const every = [c.device.publish?.everyUs, c.device.requests?.everyUs, c.device.downlink?.everyUs].filter(
      (v): v is number => v !== undefined,
    );
    return sum + every.reduce((a, us) => a + (c.devices * 1e6) / us, 0);
  }, 0);
  if (ratePerS > BUSY_MESSAGE_RATE_PER_S) {
    out.push(
      `device.publish/requests/downlink: the fleet would send ${Math.round(ratePerS).toLocaleString('en')} messages/s; past ~${BUSY_MESSAGE_RATE_PER_S.toLocaleString('en')}/s ` +
        'the harness itself is the likely bottleneck (the run will say if it was): a longer every, or fewer devices, measures the target',
    );
  }
  s.cohorts.forEach((c, i) => {
    const d = c.device;
    if (d.protocol !== 'mqtt' || d.mqttVersion !== 5) return;
    const where = s.cohorts.length === 1 && c.name === 'default' ? 'device' : `cohorts[${i}].device`;
    // MQTT 5 splits 3.1.1's clean session in two: Clean Start (resume or not) and Session Expiry (keep or not).
    if ((d.sessionExpiryS ?? 0) > 0 && d.cleanSession) {
      out.push(
        `${where}.sessionExpiry: with cleanSession true (MQTT 5 Clean Start) every connect discards the session the target kept; set cleanSession: false to resume it`,
      );
    } else if (!d.cleanSession && (d.sessionExpiryS ?? 0) === 0) {
      out.push(
        `${where}.cleanSession: false without a sessionExpiry: an MQTT 5 target ends the session when the connection closes, so there is nothing to resume; set sessionExpiry (e.g. 1h)`,
      );
    }
  });
  return out;
}
