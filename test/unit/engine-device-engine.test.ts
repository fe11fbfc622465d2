/**
 * Which path each cohort runs on (enginesUsed, engineNotices): a host-name target is the native
 * core's like an IP (it looks the name up on every attempt); ws:// stays on the JavaScript path.
 */
import { describe, expect, it } from 'vitest';
import { engineNotices, enginesUsed } from '../../src/engine/device-engine.js';
import { prepareTarget } from '../../src/protocols/kinds.js';
import { validateScenario } from '../../src/scenario/validate.js';
import { nativeBuilt } from '../helpers/native.js';

const cohorts = validateScenario(
  {
    name: 'paths',
    target: 'mqtt://127.0.0.1:1883',
    devices: 10,
    cohorts: ['ip', 'name', 'ws'].map((name) => ({ name, share: 1 / 3, device: { engine: 'native' } })),
    waves: [{ type: 'spike', at: '0s' }],
    hold: '1s',
  },
  'paths.yaml',
).resolved.cohorts;
const targets = [
  [prepareTarget('mqtt', 'mqtt://127.0.0.1:1883')],
  [prepareTarget('mqtt', 'mqtt://broker.invalid:1883'), prepareTarget('mqtt', 'mqtts://broker.invalid:8883')],
  [prepareTarget('mqtt', 'ws://broker.invalid:8080/mqtt')],
];

describe.skipIf(!nativeBuilt())('the connect path of each cohort', () => {
  it('puts IP and host-name targets on the native core, ws:// on the JavaScript path', () => {
    expect(enginesUsed(cohorts, targets)).toEqual({ ip: 'native', name: 'native', ws: 'js' });
  });

  it('names only the ws:// cohort in the notice of what stayed on the JavaScript path', () => {
    const notices = engineNotices(cohorts, targets);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain('cohort ws: target ws://broker.invalid');
    expect(notices[0]).not.toContain('cohort name');
    expect(notices[0]).not.toContain('cohort ip');
  });
});
