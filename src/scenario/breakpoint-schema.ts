/**
 * The optional `breakpoint:` section of a scenario: how `herd breakpoint` searches the connect rate
 * the target sustains, the stop conditions of one level, and the CI thresholds on the found rate.
 * Kept apart from schema.ts so the scenario schema only names it. Every default is in
 * docs/breakpoint.md.
 */
import { z } from 'zod';
import { duration, durationAtLeast, wholeSeconds } from './schema-fields.js';

const rate = z
  .number({ error: 'expected connections per second' })
  .positive({ error: 'expected a rate greater than 0' })
  .max(1_000_000);

const expressions = z.union([z.string().min(1).max(200), z.array(z.string().min(1).max(200)).min(1)], {
  error: 'expected a threshold expression like "< 1%" or a list of them',
});

export const DEFAULT_STOP_WHEN: Readonly<Record<string, string>> = {
  'errors.rate': '< 1%',
  'connect.total': 'p(99) < 1s',
  'attempts.timedOut': '== 0',
  'shed.rate': '< 5%',
};

const devices = z.number({ error: 'expected a whole number of devices' }).int().min(1).max(10_000_000);

export const breakpointSchema = z
  .strictObject({
    mode: z
      .enum(['connect-rate', 'held-devices'], { error: 'expected connect-rate or held-devices' })
      .default('connect-rate')
      .meta({
        description:
          'connect-rate: search the connect rate. held-devices: search how many devices the target holds at once, connecting at arrivalRate. Default connect-rate.',
      }),
    startRate: rate.default(50).meta({ description: 'Connect rate of the first level, per second. Default 50.' }),
    factor: z
      .number({ error: 'expected a number greater than 1' })
      .gt(1, { error: 'expected a number greater than 1' })
      .max(10)
      .default(2)
      .meta({ description: 'Each step-up multiplies the rate by this until a level fails. Default 2.' }),
    resolution: z
      .number({ error: 'expected a fraction, e.g. 0.1' })
      .gt(0, { error: 'expected a fraction greater than 0' })
      .max(1)
      .default(0.1)
      .meta({
        description: 'Bisection stops when (first failing − last passing) ≤ resolution × last passing. Default 0.1.',
      }),
    minRate: rate.default(5).meta({ description: 'Lowest rate tried when even the first level fails. Default 5.' }),
    maxRate: rate
      .default(20_000)
      .meta({ description: 'Highest rate tried; a target that holds it has no breakpoint below it. Default 20000.' }),
    maxLevels: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(14)
      .meta({ description: 'Most levels one search runs. Default 14.' }),
    startDevices: devices.default(500).meta({ description: 'held-devices: devices of the first level. Default 500.' }),
    minDevices: devices
      .default(50)
      .meta({ description: 'held-devices: fewest devices tried when the first level fails. Default 50.' }),
    maxDevices: devices.default(20_000).meta({ description: 'held-devices: most devices tried. Default 20000.' }),
    arrivalRate: rate
      .default(200)
      .meta({ description: 'held-devices: devices connect at this rate, per second. Default 200.' }),
    hold: duration.default('5s').meta({
      description:
        'held-devices: how long the whole fleet is held after the last connect, inside the verdict. Default 5s.',
    }),
    settle: wholeSeconds('a level is judged on per-second counts', durationAtLeast('1s'))
      .default('2s')
      .meta({ description: 'Start of each level excluded from its verdict (labelled "settle"). Default 2s.' }),
    measure: wholeSeconds('a level is judged on per-second counts', durationAtLeast('1s'))
      .default('5s')
      .meta({ description: 'Part of each level its verdict is taken on. Default 5s.' }),
    drain: duration.optional().meta({
      description:
        'Devices stay after the last connect so every attempt ends. Default: the device connectTimeout + 0.5s.',
    }),
    stopWhen: z.record(z.string().min(1).max(100), expressions).optional().meta({
      description:
        'A level passes while all of these hold (herd threshold grammar, plus shed.rate). Default: errors.rate < 1%, connect.total p(99) < 1s, attempts.timedOut == 0, shed.rate < 5%.',
    }),
    thresholds: z
      .record(z.string().min(1).max(100), expressions)
      .optional()
      .meta({ description: 'CI thresholds on the search, e.g. breakpoint.rate: ">= 2000" (exit 1 when one fails).' }),
  })
  .meta({
    description:
      '`herd breakpoint`: step the connect rate up geometrically, then bisect, to find the rate the target sustains.',
  });

/** held-devices levels also fail when a held session is lost. */
export const DEFAULT_HELD_STOP_WHEN: Readonly<Record<string, string>> = { ...DEFAULT_STOP_WHEN, disconnects: '== 0' };

export type BreakpointInput = z.output<typeof breakpointSchema>;
