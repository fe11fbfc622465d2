/**
 * A failed search threshold is the harness's doing (exit 3) only when a search the harness did not
 * end could have passed it: the target's breakpoint lies between the rate held and maxRate.
 */
import { describe, expect, it } from 'vitest';
import { harnessCouldFlip, parseSearchThresholds } from '../../src/run/breakpoint/conditions.js';

function flip(expression: string, observed: number | null, maxRate = 80): boolean {
  const { thresholds, problems } = parseSearchThresholds({ 'breakpoint.rate': expression });
  expect(problems).toEqual([]);
  return harnessCouldFlip(thresholds[0] as (typeof thresholds)[0], observed, maxRate);
}

describe('harnessCouldFlip', () => {
  it.each([
    // [expression, rate held before the harness gave out, could a longer search have passed it]
    ['>= 1000000', 40, false],
    ['>= 80', 40, true],
    ['>= 81', null, false],
    ['> 80', 40, false],
    ['> 79', 40, true],
    ['< 30', 40, false],
    ['< 50', 40, true],
    ['<= 40', 40, true],
    ['<= 39', 40, false],
    ['< 10', null, true],
    ['== 60', 40, true],
    ['== 90', 40, false],
    ['== 20', 40, false],
  ] as const)('breakpoint.rate %s, held %s of maxRate 80: %s', (expression, observed, could) => {
    expect(flip(expression, observed)).toBe(could);
  });

  it('another metric (levels run) could always have come out otherwise', () => {
    const { thresholds } = parseSearchThresholds({ 'breakpoint.levels': '>= 100' });
    expect(harnessCouldFlip(thresholds[0] as (typeof thresholds)[0], 3, 80)).toBe(true);
  });
});
