/**
 * Scenario file v1: the one definition from which validation, TypeScript types and the editor JSON
 * Schema (schemas/scenario.schema.json) all come. Unknown fields are rejected everywhere.
 * Every default is written here and in docs/scenario-reference.md (a test keeps them in step).
 */
import { z } from 'zod';
import { orList } from '../util/suggest.js';
import { OUTAGE_MODES } from '../results/resolved-scenario.js';
import { redactUrl, targetUrlProblem } from './url-credentials.js';
import { targetOptionsSchema } from './target-options.js';
import { PRESET_NAMES, withPresets } from './presets.js';
import { breakpointSchema } from './breakpoint-schema.js';
import { BOUNDS, duration, share } from './schema-fields.js';
import { observedOutagesSchema } from './observed-schema.js';
import { declaredOutagesSchema } from './declared-schema.js';
import { deviceOverrideSchema, deviceSchema } from './device-schema.js';

export { BOUNDS };

export const SCENARIO_VERSION = 1;

const count = z
  .number({ error: 'expected a whole number' })
  .int({ error: 'expected a whole number' })
  .positive({ error: 'expected a number greater than 0' })
  .max(10_000_000, { error: 'expected at most 10,000,000' });

const nameText = z
  .string({ error: 'expected text' })
  .min(1, { error: 'expected non-empty text' })
  .max(200, { error: 'expected at most 200 characters' });

const targetUrl = z
  .string({ error: 'expected "embedded" or a URL like "mqtt://127.0.0.1:1883"' })
  .superRefine((v, ctx) => {
    // The message names the part of the URL that is wrong (scheme, host, port), never the password.
    const problem = v === 'embedded' ? null : targetUrlProblem(v);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem, input: redactUrl(v) });
  });

const jitter = z
  .enum(['none', 'full', 'equal', 'decorrelated', 'proportional'], {
    error: 'expected none, full, equal, decorrelated or proportional',
  })
  .meta({
    description:
      'none: exact delay; full: U(0, d); equal: d/2 + U(0, d/2); decorrelated: min(max, U(initial, 3 × previous)); proportional: d × U(1 − jitterShare, 1 + jitterShare).',
  });

const maxAttempts = count
  .max(1_000_000)
  .optional()
  .meta({ description: 'Give up after this many consecutive failed attempts; default: never.' });
// Fields every retrying policy takes (issue 16: what vendor SDKs do that the policies alone could not say).
const policyExtras = {
  jitterShare: z
    .number({ error: 'expected a number between 0 and 1' })
    .gt(0, { error: 'expected a share above 0' })
    .max(1, { error: 'expected a share of at most 1' })
    .optional()
    .meta({ description: 'jitter proportional: the delay is d × U(1 − share, 1 + share); default 0.05 (±5%).' }),
  resetAfter: duration.optional().meta({
    description:
      'The backoff restarts from its first delay only after the device stayed connected this long; default: on every connect.',
  }),
  serverSignals: z
    .strictObject({
      backoffOn: z
        .array(
          z
            .number()
            .int()
            .min(0x80, { error: 'expected an MQTT 5 error reason code (0x80–0xFF)' })
            .max(0xff, { error: 'expected an MQTT 5 error reason code (0x80–0xFF)' }),
        )
        .max(64)
        .default([])
        .meta({
          description:
            'CONNACK/DISCONNECT reason codes after which the backoff takes one extra step, e.g. [0x96, 0x97, 0x9F]. Default [].',
        }),
      followServerReference: z.boolean().default(false).meta({
        description:
          "On DISCONNECT/CONNACK 0x9C/0x9D move to the Server Reference, if it is one of the device's loopback targets. Default false.",
      }),
      adoptServerKeepAlive: z.boolean().default(true).meta({
        description:
          'Use the CONNACK Server Keep Alive instead of the own keepalive (MQTT 5 requires it). Default true.',
      }),
    })
    .optional()
    .meta({
      description:
        'What the device does when an MQTT 5 server steers it (issue 16); default: only adopt Server Keep Alive.',
    }),
};

export const reconnectPolicySchema = z.discriminatedUnion(
  'policy',
  [
    z.strictObject({ policy: z.literal('none') }),
    z.strictObject({
      policy: z.literal('fixed'),
      delay: duration,
      jitter: jitter.default('none'),
      maxAttempts,
      ...policyExtras,
    }),
    z.strictObject({
      policy: z.literal('linear'),
      initial: duration,
      step: duration,
      max: duration,
      jitter: jitter.default('none'),
      maxAttempts,
      ...policyExtras,
    }),
    z.strictObject({
      policy: z.literal('exponential'),
      initial: duration,
      multiplier: z
        .number({ error: 'expected a number above 1' })
        .gt(1, { error: 'expected a number above 1' })
        .max(100)
        .default(2),
      max: duration,
      jitter: jitter.default('full'),
      maxAttempts,
      ...policyExtras,
    }),
  ],
  {
    error: (i) =>
      i.code === 'invalid_union'
        ? `expected a reconnect policy (none, fixed, linear or exponential) or a preset (${PRESET_NAMES.join(', ')})`
        : undefined,
  },
);

export const reconnectSchema = withPresets(reconnectPolicySchema).meta({
  description:
    'What a device does after a drop or a failed connect: a policy, or a vendor SDK preset with overrides (docs/presets.md). Default: none (no hidden retries).',
});

const waveBase = {
  name: nameText.optional(),
  at: duration
    .optional()
    .meta({ description: 'Start offset from the run origin; default: when the previous wave ends.' }),
};

const rampWave = z.strictObject({
  type: z.literal('ramp'),
  ...waveBase,
  devices: count.optional().meta({ description: 'Devices this wave connects; default: those left.' }),
  over: duration.meta({ description: 'Devices connect evenly spread over this time.' }),
});

const spikeWave = z.strictObject({
  type: z.literal('spike'),
  ...waveBase,
  devices: count.optional().meta({ description: 'Devices that all connect at the same instant.' }),
});

const stepsWave = z.strictObject({
  type: z.literal('steps'),
  ...waveBase,
  devices: count.optional(),
  steps: count.max(10_000).meta({ description: 'Number of equal spikes.' }),
  every: duration.meta({ description: 'Time between two steps.' }),
});

const rateWave = z.strictObject({
  type: z.literal('rate'),
  ...waveBase,
  rate: z
    .number({ error: 'expected connections per second' })
    .positive({ error: 'expected a rate greater than 0' })
    .max(1_000_000)
    .meta({ description: 'New connections per second; devices = rate × over.' }),
  over: duration,
  arrival: z.enum(['uniform', 'poisson'], { error: 'expected "uniform" or "poisson"' }).default('uniform'),
});

const outageWave = z.strictObject({
  type: z.literal('outage'),
  name: nameText.optional(),
  at: duration.meta({ description: 'When the outage starts, from the run origin.' }),
  share: share.default(1),
  cohort: nameText.optional().meta({ description: 'Only devices of this cohort; default: the whole fleet.' }),
  mode: z
    .enum(OUTAGE_MODES, { error: `expected ${orList(OUTAGE_MODES)}` })
    .default('reset')
    .meta({
      description:
        'disconnect: clean MQTT DISCONNECT; reset: TCP reset; silent: no traffic, found only by keepalive; reboot: the device abandons its connection without a word (the target still holds it) and reconnects when its network is back — a second connection per client id, which the target must take over.',
    }),
  offline: duration.meta({
    description: 'How long the devices have no network; their reconnect attempts during it fail locally.',
  }),
});

const churnWave = z.strictObject({
  type: z.literal('churn'),
  ...waveBase,
  over: duration,
  perMinute: share.meta({ description: 'Share of the fleet that disconnects cleanly and reconnects, per minute.' }),
});

export const waveSchema = z.discriminatedUnion(
  'type',
  [rampWave, spikeWave, stepsWave, rateWave, outageWave, churnWave],
  {
    error: (issue) =>
      issue.code === 'invalid_union'
        ? 'expected a wave with type ramp, spike, steps, rate, outage or churn'
        : undefined,
  },
);

export const cohortSchema = z.strictObject({
  name: nameText,
  share: share,
  device: deviceOverrideSchema
    .optional()
    .meta({ description: 'Overrides of the scenario-wide device options; fields left out inherit them.' }),
  reconnect: reconnectSchema.optional().meta({ description: "Default: the scenario's reconnect policy." }),
  targets: z
    .array(z.string({ error: 'expected a target URL' }), { error: 'expected a list of target URLs' })
    .min(1)
    .optional()
    .meta({ description: 'Failover list: a device moves to the next URL after a failed attempt.' }),
});

const thresholdList = z.union([nameText, z.array(nameText).min(1)], {
  error: 'expected a threshold expression like "p(99) < 2s" or a list of them',
});

export const scenarioSchema = z
  .strictObject({
    $schema: z.string().optional(),
    version: z.literal(SCENARIO_VERSION, { error: `expected ${SCENARIO_VERSION}` }).default(SCENARIO_VERSION),
    name: nameText,
    description: z
      .string({ error: 'expected text' })
      .max(10_000, { error: 'expected at most 10,000 characters' })
      .optional(),
    target: z
      .union([targetUrl, z.strictObject({ embedded: targetOptionsSchema })], {
        error: 'expected "embedded", a URL like "mqtt://127.0.0.1:1883", or { embedded: { profile: fragile, … } }',
      })
      .default('embedded')
      .meta({
        description:
          'Where the devices connect: the embedded reference target (optionally with its failure knobs) or a URL.',
      }),
    seed: z
      .number({ error: 'expected a whole number' })
      .int()
      .min(0)
      .max(2 ** 32 - 1)
      .optional(),
    devices: count,
    device: deviceSchema.default(() => deviceSchema.parse({})),
    reconnect: reconnectSchema.default({ policy: 'none' }),
    cohorts: z.array(cohortSchema, { error: 'expected a list of cohorts' }).min(1).optional(),
    waves: z.array(waveSchema, { error: 'expected a list of waves' }).min(1, { error: 'expected at least one wave' }),
    hold: duration.default('0s').meta({ description: 'How long devices stay connected after the last wave.' }),
    duration: duration
      .optional()
      .meta({ description: 'Total run time before teardown; default: end of the last wave + hold.' }),
    thresholds: z.record(nameText, thresholdList).optional(),
    declaredOutages: declaredOutagesSchema,
    observedOutages: observedOutagesSchema,
    breakpoint: breakpointSchema
      .optional()
      .meta({ description: 'Settings of `herd breakpoint` (ignored by herd run).' }),
  })
  .meta({ title: 'herd scenario', description: 'A herd load-test scenario (version 1).' });

export type Scenario = z.output<typeof scenarioSchema>;
export type Wave = z.output<typeof waveSchema>;
export type DeviceOptions = z.output<typeof deviceSchema>;
export type ReconnectInput = z.output<typeof reconnectSchema>;
export type ReconnectPolicyInput = z.output<typeof reconnectPolicySchema>;
export type CohortInput = z.output<typeof cohortSchema>;
