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
    const every = [c.device.publish?.everyUs, c.device.requests?.everyUs, c.device.downlink?.everyUs].filter((v): v is number => v !== undefined);
    return sum + every.reduce((a, us) => a + (c.devices * 1e6) / us, 0);
  }, 0);
  if (ratePerS > BUSY_MESSAGE_RATE_PER_S) {
    out.push(
      `device.publish/requests/downlink: the fleet would send ${Math.round(ratePerS).toLocaleString('en')} messages/s; past ~${BUSY_MESSAGE_RATE_PER_S.toLocaleString('en')}/s ` +
        'the harness itself is the likely bottleneck (the run will say if it was): a longer every, or fewer devices, measures the target',
    );
  }
  if (s.target === 'embedded') {
    s.cohorts.forEach((c, i) => {
      if (c.device.protocol === 'mqtt' && c.device.mqttVersion === 5 && c.targets === null) {
        const where = s.cohorts.length === 1 && c.name === 'default' ? 'device.mqttVersion' : `cohorts[${i}].device.mqttVersion`;
        out.push(`${where}: the embedded target speaks MQTT 3.1.1 only and answers every MQTT 5 CONNECT with CONNACK 0x84 (unsupported protocol version): every attempt will fail; use a broker that speaks MQTT 5 (--target) or mqttVersion "3.1.1"`);
      }
    });
  }
  return out;
}
