/**
 * The resolved scenario as results.json records it (results/resolved-scenario.ts is its type):
 * part of the results schema, so a run can be reproduced from its report.
 */
import { z } from 'zod';
import { DEVICE_KINDS, SCHEME_NAMES } from '../util/target-url.js';
import { orList } from '../util/suggest.js';
import { OUTAGE_MODES } from './resolved-scenario.js';
import { count, text, us } from './schema-parts.js';

const waveCommon = {
  name: text('Wave name (default: "<type>-<n>").'),
  atUs: us('Start offset from the run origin'),
  devices: count('Devices this wave connects (after --scale).'),
};

const connectWaves = [
  z.object({ type: z.literal('ramp'), ...waveCommon, overUs: us('Devices connect evenly spread over this time') }),
  z.object({ type: z.literal('spike'), ...waveCommon }),
  z.object({
    type: z.literal('steps'),
    ...waveCommon,
    steps: count('Number of equal spikes.'),
    everyUs: us('Time between two steps'),
  }),
  z.object({
    type: z.literal('rate'),
    ...waveCommon,
    rate: z.number().min(0).meta({ description: 'New connections per second (after --scale).' }),
    overUs: us('How long the wave lasts'),
    arrival: z.enum(['uniform', 'poisson']).meta({ description: 'Spacing of arrivals: uniform or poisson.' }),
  }),
] as const;

const eventWaves = [
  z.object({
    type: z.literal('outage'),
    name: waveCommon.name,
    atUs: waveCommon.atUs,
    share: z
      .number()
      .min(0)
      .max(1)
      .meta({ description: 'Fraction of the connected devices (or of the cohort) knocked offline (0–1).' }),
    cohort: z.string().nullable().meta({ description: 'Only devices of this cohort, or null for all.' }),
    mode: z.enum(OUTAGE_MODES).meta({
      description: `How the connection is lost: ${orList(OUTAGE_MODES)} (reboot: abandoned, left to the target to take over).`,
    }),
    offlineUs: us('How long the devices stay offline before their reconnect policy applies'),
  }),
  z.object({
    type: z.literal('churn'),
    name: waveCommon.name,
    atUs: waveCommon.atUs,
    overUs: us('How long the churn lasts'),
    perMinute: z.number().min(0).meta({ description: 'Fraction of the fleet that drops and reconnects per minute.' }),
  }),
] as const;

const waveSchema = z.discriminatedUnion('type', [...connectWaves, ...eventWaves]).meta({
  description:
    'One wave: connect waves (ramp, spike, steps, rate) add devices; outage and churn knock connected ones off. `type` decides the other fields.',
});

const deviceSchema = z
  .object({
    protocol: z.enum(DEVICE_KINDS).meta({ description: 'Wire protocol: MQTT devices or plain WebSocket devices.' }),
    hello: z
      .string()
      .nullable()
      .default(null)
      .meta({ description: 'websocket devices: the hello frame template, or null.' }),
    subprotocol: z
      .string()
      .nullable()
      .default(null)
      .meta({ description: 'websocket devices: the subprotocol offered, or null.' }),
    mqttVersion: z.union([z.literal(4), z.literal(5)]).meta({ description: 'MQTT protocol level: 4 (3.1.1) or 5.' }),
    clientId: text('Client id template ({id}, {run}, {worker}).'),
    username: z.string().nullable().meta({ description: 'Username template, or null.' }),
    password: z.string().nullable().meta({ description: 'Password template, or null.' }),
    keepaliveUs: us('MQTT keepalive'),
    cleanSession: z.boolean().meta({ description: 'MQTT clean session / clean start.' }),
    connectTimeoutUs: us('Herd’s own handshake timer; attempts past it count as timed out'),
    dnsTtlUs: us(
      'How long one lookup of a host-name target served its attempts; 0: each attempt looked it up (0 in files before 1.7.0)',
    ).default(0),
    transport: z
      .enum(SCHEME_NAMES)
      .default('mqtt')
      .meta({ description: 'Listener of the embedded target used (a target URL decides it by its scheme).' }),
    tls: z.record(z.string(), z.unknown()).nullable().default(null).meta({
      description: 'TLS options as written (ca, insecure, servername, alpn, versions, clientCert, resume), or null.',
    }),
    sessionExpiryS: z
      .number()
      .int()
      .min(0)
      .nullable()
      .default(null)
      .meta({ description: 'MQTT 5 session expiry interval in seconds, or null.' }),
    engine: z.enum(['js', 'native', 'auto']).default('js').meta({
      description:
        'Connect path asked for: auto, js or native (the native storm core where it applies); run.engines says which ran. Files written before it was recorded ran on js.',
    }),
    publish: z
      .object({
        everyUs: us('Interval between two publishes of one device'),
        qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).meta({ description: 'QoS of the telemetry.' }),
        topic: text('Topic template.'),
        payloadBytes: count('Payload size in bytes.'),
        echo: z
          .boolean()
          .meta({ description: 'Devices subscribe to their own topic so delivery is counted end to end.' }),
        stopBeforeEndUs: us('Publishing stops this long before teardown'),
        store: z
          .object({
            resend: z.enum(['always', 'session', 'never']).meta({
              description:
                'Unacknowledged QoS 1/2 publishes resent (DUP set) after a reconnect: in any new session, only a resumed one, never.',
            }),
            offlineQueue: z
              .number()
              .int()
              .min(0)
              .nullable()
              .meta({ description: 'Publishes held while offline; null: no limit; 0: none (dropped by the device).' }),
            overflow: z
              .enum(['dropOldest', 'dropNewest'])
              .meta({ description: 'Which message the device drops when its offline queue is full.' }),
            queueQos0: z.boolean().meta({ description: 'QoS 0 publishes are queued offline too.' }),
          })
          .default({ resend: 'never', offlineQueue: 0, overflow: 'dropNewest', queueQos0: false })
          .meta({ description: 'The device message store (absent in files before 1.4.0: none).' }),
      })
      .nullable()
      .default(null)
      .meta({ description: 'Telemetry each device publishes while connected, or null.' }),
    requests: z
      .object({
        everyUs: us('Interval between two requests to one device'),
        qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).meta({ description: 'QoS of requests and answers.' }),
        payloadBytes: count('Request payload size in bytes.'),
        stopBeforeEndUs: us('Requests stop this long before teardown'),
      })
      .nullable()
      .default(null)
      .meta({ description: 'Cloud → device requests each device answers, or null.' }),
    downlink: z
      .object({
        everyUs: us('Interval between two messages the cloud sends one device'),
        qos: z
          .union([z.literal(0), z.literal(1), z.literal(2)])
          .meta({ description: 'QoS of the cloud’s messages and the device’s inbox subscription.' }),
        payloadBytes: count('Message payload size in bytes.'),
        stopBeforeEndUs: us('The cloud stops sending this long before teardown'),
        fromUs: us('The cloud sends only from this time after the run origin'),
        untilUs: us('The cloud sends nothing at or after this time').nullable().meta({
          description:
            'The cloud sends nothing at or after this time (integer µs); null: until teardown − stopBeforeEndUs.',
        }),
      })
      .nullable()
      .default(null)
      .meta({
        description:
          'Cloud → device messages sent whether the device is online or not (persistent sessions replay them), or null.',
      }),
  })
  .meta({ description: 'How each device speaks to the target.' });

const jitter = z.enum(['none', 'full', 'equal', 'decorrelated', 'proportional']).meta({
  description: 'Randomisation of each delay: none, full, equal, decorrelated or proportional (±jitterShare).',
});
// Written only when the scenario set them (issue 16: vendor SDK presets).
const policyExtras = {
  jitterShare: z
    .number()
    .gt(0)
    .max(1)
    .optional()
    .meta({ description: 'jitter proportional: ±this share of the delay; absent = 0.05.' }),
  resetAfterUs: us('Connected time after which the backoff restarts; absent = on every connect').optional(),
  serverSignals: z
    .object({
      backoffOn: z
        .array(z.number().int())
        .meta({ description: 'Reason codes after which the backoff takes one extra step.' }),
      followServerReference: z
        .boolean()
        .meta({ description: 'Moves to a Server Reference that names one of its loopback targets.' }),
      adoptServerKeepAlive: z.boolean().meta({ description: 'Uses the CONNACK Server Keep Alive.' }),
    })
    .optional()
    .meta({
      description: 'What the device does when an MQTT 5 server steers it; absent = adopt Server Keep Alive only.',
    }),
};
const maxAttempts = z
  .number()
  .int()
  .min(0)
  .nullable()
  .meta({ description: 'Reconnect attempts before giving up, or null for no limit.' });

const reconnectSchema = z
  .discriminatedUnion('policy', [
    z.object({ policy: z.literal('none') }),
    z.object({
      policy: z.literal('fixed'),
      delayUs: us('Delay before each reconnect'),
      jitter,
      maxAttempts,
      ...policyExtras,
    }),
    z.object({
      policy: z.literal('linear'),
      initialUs: us('First delay'),
      stepUs: us('Added per attempt'),
      maxUs: us('Largest delay'),
      jitter,
      maxAttempts,
      ...policyExtras,
    }),
    z.object({
      policy: z.literal('exponential'),
      initialUs: us('First delay'),
      multiplier: z.number().min(1).meta({ description: 'Growth factor per attempt.' }),
      maxUs: us('Largest delay'),
      jitter,
      maxAttempts,
      ...policyExtras,
    }),
  ])
  .meta({ description: 'Device firmware reconnect policy; `policy` decides the other fields.' });

const cohortSchema = z
  .object({
    name: text('Cohort name.'),
    share: z.number().min(0).max(1).meta({ description: 'Fraction of the fleet (0–1).' }),
    devices: count('Devices in this cohort.'),
    device: deviceSchema,
    reconnect: reconnectSchema,
    targets: z
      .array(z.string())
      .nullable()
      .meta({ description: 'Failover target list, or null for the scenario target.' }),
  })
  .meta({ description: 'A group of devices with its own options and reconnect policy (e.g. a firmware version).' });

export const resolvedScenarioSchema = z
  .object({
    version: z.number().int().meta({ description: 'Scenario file format version.' }),
    name: text('Scenario name; `herd compare` refuses runs of different names.'),
    description: z.string().nullable().meta({ description: 'Free text from the scenario, or null.' }),
    target: text('Target as written in the scenario or --target ("embedded" or a URL).'),
    embeddedTarget: z.record(z.string(), z.unknown()).nullable().default(null).meta({
      description:
        'Options of the embedded target (profile and failure knobs) as written in the scenario; null = defaults or an outside target.',
    }),
    seed: count('Seed of the deterministic plan.'),
    scale: z.number().positive().meta({ description: 'The --scale factor applied to devices and rates (1 = none).' }),
    devices: count('Devices in the run, after --devices and --scale.'),
    device: deviceSchema,
    cohorts: z
      .array(cohortSchema)
      .default([])
      .meta({ description: 'Device cohorts (absent in files from before cohorts existed; read as []).' }),
    waves: z.array(waveSchema).meta({ description: 'The waves, in scenario order.' }),
    outageWindows: z
      .array(
        z.object({
          name: text('Outage name.'),
          side: z.enum(['device', 'target', 'declared']).meta({
            description:
              'device: herd dropped the devices; target: the embedded target had the outage; declared: the scenario’s commands caused it (1.4).',
          }),
          atUs: us('Start, from the run origin'),
          offlineUs: us('Length of the outage'),
          mode: text('How connections were dropped.'),
        }),
      )
      .default([])
      .meta({
        description:
          'Windows whose disconnected devices are tracked until back: outage waves, then embedded target outages.',
      }),
    declaredOutages: z
      .array(
        z.object({
          name: text('Outage name.'),
          atUs: us('When the break command was to run, from the run origin'),
          offlineUs: us('How long after it the restore command was to run'),
          break: text('Not recorded: "(not recorded)" (a command line can hold a password).'),
          restore: text('Not recorded, as break; null when the outage had no restore command.').nullable(),
          timeoutUs: us('Each command’s timeout'),
        }),
      )
      .default([])
      .meta({ description: 'Outages caused by the scenario’s own commands (1.4; [] before).' }),
    observedOutages: z
      .object({
        windowUs: us('How close together the losses must be'),
        minDevices: count('Fewest devices lost within the window, per worker process.'),
        share: z
          .number()
          .gt(0)
          .lte(1)
          .meta({ description: 'Least share of the connected devices lost within the window.' }),
      })
      .nullable()
      .default(null)
      .meta({ description: 'The rule that found outages herd did not cause; null = off (and in files before 1.3).' }),
    holdUs: us('How long devices stay connected after the last wave'),
    durationUs: us('Time from the run origin at which teardown starts'),
    thresholds: z
      .record(z.string(), z.array(z.string()))
      .meta({ description: 'Threshold expressions by metric, as written in the scenario.' }),
  })
  .meta({ description: 'The resolved scenario: enough to reproduce the run.' });
