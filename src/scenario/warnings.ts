/**
 * Valid scenarios that will not do what their author probably wants. `validate` prints these and
 * `run` shows them before it starts; none is fatal, because each is a legitimate thing to test.
 */
import type { ResolvedScenario } from './resolve.js';

export function scenarioWarnings(s: ResolvedScenario): string[] {
  const out: string[] = [];
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
