/**
 * Which wake-up a worker's scheduler gets: the native addon's µs timer for every run but one that put
 * all its devices on the JavaScript path (engine: js everywhere, which HERD_NATIVE=0 also makes), so a
 * ws:// target — JavaScript devices under engine: auto — is started on time as well.
 */
import { describe, expect, it } from 'vitest';
import { workerWake } from '../../src/engine/runner-options.js';
import { nativeWake } from '../../src/protocols/native/core.js';
import { validateScenario } from '../../src/scenario/validate.js';

const scenario = (engines: (string | undefined)[]) =>
  validateScenario(
    {
      name: 'wake',
      target: 'mqtt://broker.invalid:1883',
      devices: 10,
      cohorts: engines.map((engine, i) => ({
        name: `c${i}`,
        share: 1 / engines.length,
        ...(engine === undefined ? {} : { device: { engine } }),
      })),
      waves: [{ type: 'spike', at: '0s' }],
      hold: '1s',
    },
    'wake.yaml',
  ).resolved;

describe('a worker’s scheduler wake-up', () => {
  it('is the addon’s µs timer when any cohort may leave the JavaScript path', () => {
    expect(workerWake(scenario([undefined]))).toBe(nativeWake); // engine: auto
    expect(workerWake(scenario(['native']))).toBe(nativeWake);
    expect(workerWake(scenario(['js', 'auto']))).toBe(nativeWake);
  });

  it('is none (Node’s ms timers) when every cohort asked for the JavaScript path', () => {
    expect(workerWake(scenario(['js']))).toBeUndefined();
    expect(workerWake(scenario(['js', 'js']))).toBeUndefined();
  });
});
