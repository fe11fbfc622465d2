/** `herd validate` says when a recovery threshold can get no sample, and why. */
import { describe, expect, it } from 'vitest';
import { validateScenario } from '../../src/scenario/validate.js';

const base = {
  name: 'w',
  devices: 100,
  reconnect: { policy: 'fixed', delay: '1s' },
  waves: [{ type: 'ramp', over: '1s' }],
  thresholds: { 'recovery.p99': '< 30s' },
};
const warnings = (extra: Record<string, unknown>): string[] =>
  validateScenario({ ...base, ...extra }, 'w.yaml').warnings;

describe('recovery thresholds that can get no sample', () => {
  it('no outage wave, no embedded target outage and observed outages off', () => {
    expect(warnings({ observedOutages: false })).toEqual([
      'thresholds recovery.p99: can get no sample — the scenario has no outage wave, no target.embedded.outages and no declaredOutages, and observedOutages is false, so no outage will be measured',
    ]);
  });

  it('observed outages on, but the fleet is smaller than minDevices', () => {
    expect(warnings({ devices: 4, thresholds: { 'recovery.p50': '< 5s', 'reconnect.attempts.max': '< 9' } })).toEqual([
      'thresholds recovery.p50, reconnect.attempts.max: can get no sample — no outage wave, target.embedded.outages or declaredOutages, and observedOutages.minDevices 5 is more than the 4 devices, so no outage can be observed',
    ]);
  });

  it('devices that never retry never come back', () => {
    expect(warnings({ reconnect: { policy: 'none' } })).toEqual([
      `thresholds recovery.p99: every cohort's reconnect policy is none, so a device an outage hits never comes back and recovery is "never"`,
    ]);
  });

  it('nothing to say when an outage can be observed, or one is declared', () => {
    expect(warnings({})).toEqual([]);
    expect(
      warnings({
        observedOutages: false,
        waves: [
          { type: 'ramp', over: '1s' },
          { type: 'outage', at: '5s', offline: '2s' },
        ],
      }),
    ).toEqual([]);
  });
});
