/**
 * `observedOutages`: how herd recognises a fleet-wide loss it did not cause (src/metrics/observed-outages.ts
 * holds the rule; docs/scenario-reference.md, "Observed outages", states it). On by default.
 */
import { z } from 'zod';
import { durationAtLeast, share } from './schema-fields.js';

export const OBSERVED_DEFAULTS = { window: '2s', minDevices: 5, share: '10%' } as const;

const rule = z.strictObject({
  window: durationAtLeast('1ms')
    .default(OBSERVED_DEFAULTS.window)
    .meta({ description: 'How close together the losses (or failed connects) must be.' }),
  minDevices: z
    .number({ error: 'expected a whole number' })
    .int({ error: 'expected a whole number' })
    .min(1, { error: 'expected at least 1' })
    .max(10_000_000, { error: 'expected at most 10,000,000' })
    .default(OBSERVED_DEFAULTS.minDevices)
    .meta({ description: 'Fewest devices lost (or failing to connect) within the window, per worker process.' }),
  share: share
    .default(OBSERVED_DEFAULTS.share)
    .meta({ description: 'Least share of the devices connected just before the window that must be lost in it.' }),
});

export const observedOutagesSchema = z
  .union([z.literal(false), rule], { error: 'expected false or { window, minDevices, share }' })
  .default(() => rule.parse({}))
  .meta({
    description:
      'Outages herd did not cause: a fleet-wide loss (share and minDevices lost within window) or minDevices ' +
      'devices failing to connect in a row within window after the target had accepted; measured like injected ' +
      'outages from the first connect the target accepts again. false: off.',
  });

export type ObservedOutagesInput = z.output<typeof observedOutagesSchema>;
