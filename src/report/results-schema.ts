/**
 * The zod definition of results.json (schema 1.x): read.ts validates with it, and
 * schemas/results.schema.json and docs/results.md are generated from it (results-schema-doc.ts),
 * so the three never drift. A compile-time check below keeps it equal to the Results type.
 *
 * Objects are not strict on purpose: a 1.x reader must accept a later 1.y file that adds fields
 * (minor versions only add), so the JSON Schema is generated in input mode without
 * `additionalProperties: false`.
 */
import { z } from 'zod';
import { RESULTS_SCHEMA_VERSION, type Results } from './results-types.js';

const us = (d: string) => z.number().int().min(0).meta({ description: `${d} (integer µs)` });
const usOrNull = (d: string) => z.number().int().min(0).nullable().meta({ description: `${d} (integer µs; null when no samples)` });
const count = (d: string) => z.number().int().min(0).meta({ description: d });
const text = (d: string) => z.string().meta({ description: d });
const isoTime = (d: string) => z.string().meta({ description: `${d} (ISO 8601 wall-clock time, UTC)` });

// Spelled out (not ERROR_ORIGINS) so zod infers the literal union; the type guard below keeps them equal.
const origin = z.enum(['local', 'network', 'tls', 'protocol', 'timeout']).meta({
  description: 'Who failed: local (the harness itself), network, tls, protocol (the target rejected the handshake), timeout (herd’s own timer).',
});

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
    share: z.number().min(0).max(1).meta({ description: 'Fraction of the connected devices (or of the cohort) knocked offline (0–1).' }),
    cohort: z.string().nullable().meta({ description: 'Only devices of this cohort, or null for all.' }),
    mode: z.enum(['disconnect', 'reset', 'silent']).meta({ description: 'How the connection is lost: disconnect, reset or silent.' }),
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

const waveSchema = z
  .discriminatedUnion('type', [...connectWaves, ...eventWaves])
  .meta({ description: 'One wave: connect waves (ramp, spike, steps, rate) add devices; outage and churn knock connected ones off. `type` decides the other fields.' });

const deviceSchema = z
  .object({
    protocol: z.literal('mqtt').meta({ description: 'Wire protocol.' }),
    mqttVersion: z.union([z.literal(4), z.literal(5)]).meta({ description: 'MQTT protocol level: 4 (3.1.1) or 5.' }),
    clientId: text('Client id template ({id}, {run}, {worker}).'),
    username: z.string().nullable().meta({ description: 'Username template, or null.' }),
    password: z.string().nullable().meta({ description: 'Password template, or null.' }),
    keepaliveUs: us('MQTT keepalive'),
    cleanSession: z.boolean().meta({ description: 'MQTT clean session / clean start.' }),
    connectTimeoutUs: us('Herd’s own handshake timer; attempts past it count as timed out'),
  })
  .meta({ description: 'How each device speaks to the target.' });

const jitter = z.enum(['none', 'full', 'equal', 'decorrelated']).meta({ description: 'Randomisation of each delay: none, full, equal or decorrelated.' });
const maxAttempts = z.number().int().min(0).nullable().meta({ description: 'Reconnect attempts before giving up, or null for no limit.' });

const reconnectSchema = z
  .discriminatedUnion('policy', [
    z.object({ policy: z.literal('none') }),
    z.object({ policy: z.literal('fixed'), delayUs: us('Delay before each reconnect'), jitter, maxAttempts }),
    z.object({
      policy: z.literal('linear'),
      initialUs: us('First delay'),
      stepUs: us('Added per attempt'),
      maxUs: us('Largest delay'),
      jitter,
      maxAttempts,
    }),
    z.object({
      policy: z.literal('exponential'),
      initialUs: us('First delay'),
      multiplier: z.number().min(1).meta({ description: 'Growth factor per attempt.' }),
      maxUs: us('Largest delay'),
      jitter,
      maxAttempts,
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
    targets: z.array(z.string()).nullable().meta({ description: 'Failover target list, or null for the scenario target.' }),
  })
  .meta({ description: 'A group of devices with its own options and reconnect policy (e.g. a firmware version).' });

const scenarioSchema = z
  .object({
    version: z.number().int().meta({ description: 'Scenario file format version.' }),
    name: text('Scenario name; `herd compare` refuses runs of different names.'),
    description: z.string().nullable().meta({ description: 'Free text from the scenario, or null.' }),
    target: text('Target as written in the scenario or --target ("embedded" or a URL).'),
    seed: count('Seed of the deterministic plan.'),
    scale: z.number().positive().meta({ description: 'The --scale factor applied to devices and rates (1 = none).' }),
    devices: count('Devices in the run, after --devices and --scale.'),
    device: deviceSchema,
    cohorts: z
      .array(cohortSchema)
      .default([])
      .meta({ description: 'Device cohorts (absent in files from before cohorts existed; read as []).' }),
    waves: z.array(waveSchema).meta({ description: 'The waves, in scenario order.' }),
    holdUs: us('How long devices stay connected after the last wave'),
    durationUs: us('Time from the run origin at which teardown starts'),
    thresholds: z
      .record(z.string(), z.array(z.string()))
      .meta({ description: 'Threshold expressions by metric, as written in the scenario.' }),
  })
  .meta({ description: 'The resolved scenario: enough to reproduce the run.' });

const latencySummary = z
  .object({
    count: count('Samples recorded.'),
    minUs: us('Smallest sample'),
    meanUs: us('Mean, rounded'),
    p50Us: us('50th percentile'),
    p90Us: us('90th percentile'),
    p99Us: us('99th percentile'),
    p999Us: us('99.9th percentile'),
    maxUs: us('Largest sample'),
    histogram: text('HdrHistogram, compressed base64 (integer µs, 3 significant digits): mergeable and re-readable.'),
  })
  .meta({ description: 'One latency series.' });

const errorCount = z
  .object({
    origin,
    phase: text('Phase in which it happened, e.g. tcpConnect, mqttConnack.'),
    code: text('Stable code: an errno (ECONNREFUSED), CONNACK_05, CONNECT_TIMEOUT, …'),
    count: count('Occurrences.'),
  })
  .meta({ description: 'One kind of failure.' });

const timelineBucket = z
  .object({
    t: count('Bucket start in seconds since the run origin.'),
    attempts: count('Connection attempts started in this second.'),
    succeeded: count('Attempts that connected in this second.'),
    failed: count('Attempts that failed in this second.'),
    timedOut: count('Attempts ended by the connect timeout in this second.'),
    dropped: count('Attempts the harness could not start in time, in this second.'),
    disconnects: count('Sessions that ended after being connected (clean teardowns excluded).'),
    connected: count('Devices connected at the end of the second.'),
    handshaking: count('Handshakes started but not finished at the end of the second.'),
    errorsByOrigin: z
      .record(origin, count('Failures of this origin in this second.'))
      .meta({ description: 'Failures in this second by origin (local, network, tls, protocol, timeout).' }),
    connectP50Us: usOrNull('connect.total p50 of attempts finishing in this second'),
    connectP90Us: usOrNull('connect.total p90 of attempts finishing in this second'),
    connectP99Us: usOrNull('connect.total p99 of attempts finishing in this second'),
    connectMaxUs: usOrNull('connect.total max of attempts finishing in this second'),
    loopDelayP99Us: usOrNull('Worst worker event-loop delay p99 in this second'),
    reconnects: count('Attempts after a device’s first (retries after failures, drops or churn).').default(0),
    offlineAttempts: count('Attempts made while a device’s simulated network was down (never sent).').default(0),
    peakHandshaking: count('Most handshakes in flight at once within the second (sum of per-worker peaks).').default(0),
    connectHistogram: z
      .string()
      .nullable()
      .default(null)
      .meta({ description: 'This second’s connect.total HdrHistogram (compressed base64), for exact merging of shards; null when none.' }),
  })
  .meta({ description: 'One second of the run.' });

const workerHealth = z
  .object({
    worker: count('Worker index.'),
    devices: count('Devices this worker ran.'),
    peakLoopDelayP99Us: us('Worst one-second event-loop delay p99'),
    peakLoopUtilisation: z.number().min(0).meta({ description: 'Worst one-second event-loop utilisation (0–1).' }),
    peakCpuPercent: z.number().min(0).meta({ description: 'Worst one-second CPU use (% of one core).' }),
    peakRssBytes: count('Largest resident memory (bytes).'),
    peakOpenFiles: count('Most open file descriptors.'),
    peakScheduleLagUs: us('Worst delay between an intended start and the socket opening'),
    exitedEarly: z.boolean().meta({ description: 'The worker process ended before the run did.' }),
  })
  .meta({ description: 'What one worker process saw of itself.' });

const nullableUs = (d: string) => z.number().int().min(0).nullable().meta({ description: `${d} (integer µs; null = never reached)` });

const outageResult = z
  .object({
    name: text('Outage wave name.'),
    atUs: us('When the outage started, from the run origin'),
    offlineUs: us('How long the devices were kept offline'),
    mode: text('How the connection was lost: disconnect, reset or silent.'),
    dropped: count('Devices the outage hit (connected or not at the time).'),
    recovered: count('Hit devices connected again by the end of the run.'),
    recovery: z
      .object({
        p50Us: nullableUs('Time from the end of the outage until 50% of the hit devices were connected again'),
        p90Us: nullableUs('… until 90%'),
        p99Us: nullableUs('… until 99%'),
        p100Us: nullableUs('… until all'),
      })
      .meta({ description: 'Recovery times after the outage ended.' }),
    reconnectAttempts: z
      .object({
        p50: z.number().min(0).meta({ description: 'Median real attempts per recovered device.' }),
        p99: z.number().min(0).meta({ description: '99th percentile of attempts per recovered device.' }),
        max: z.number().min(0).meta({ description: 'Most attempts a recovered device needed.' }),
      })
      .meta({ description: 'Real attempts per recovered device.' }),
    peakAttemptsPerS: count('Most attempts per second from the outage’s start to the end of the run.'),
    peakHandshaking: count('Most handshakes in flight from the outage’s start to the end of the run.'),
  })
  .meta({ description: 'What one outage did and how fast the fleet came back.' });

const cohortResult = z
  .object({
    devices: count('Devices in the cohort.'),
    reconnectPolicy: text('The cohort’s reconnect policy, described.'),
    attempts: z
      .object({
        started: count('Attempts started.'),
        succeeded: count('Attempts that connected.'),
        failed: count('Attempts that failed.'),
        timedOut: count('Attempts ended by the connect timeout.'),
      })
      .meta({ description: 'The cohort’s attempts.' }),
    latency: z.record(z.string(), latencySummary).meta({ description: 'The cohort’s latency series, keyed like latency.' }),
    errors: z.array(errorCount).meta({ description: 'The cohort’s failures.' }),
  })
  .meta({ description: 'One device cohort’s results.' });

export const resultsSchema = z
  .object({
    schemaVersion: z
      .string()
      .regex(/^\d+\.\d+\.\d+$/)
      .meta({ description: `Semantic version of this format (this herd writes ${RESULTS_SCHEMA_VERSION}); readers refuse another major version.` }),
    tool: z
      .object({
        name: z.literal('herd').meta({ description: 'Always "herd".' }),
        version: text('Version of herd that wrote the file.'),
      })
      .meta({ description: 'The program that wrote the file.' }),
    run: z
      .object({
        id: text('Run id: UTC start time and a random suffix; also the report folder name.'),
        status: z.enum(['completed', 'aborted']).meta({ description: 'completed, or aborted (interrupted or stopped by a failure).' }),
        verdict: z.enum(['passed', 'failed']).meta({ description: 'passed when every threshold passed, accounting balanced, the run completed and the harness was not saturated (or that was allowed).' }),
        exitCode: z.number().int().min(0).meta({ description: 'Exit code of `herd run`: 0 passed, 1 threshold failed, 3 run failed or saturated, 130 interrupted.' }),
        startedAt: isoTime('Run start'),
        endedAt: isoTime('Run end'),
        abortedAt: isoTime('When the run was interrupted').nullable(),
        abortReason: z.string().nullable().meta({ description: 'Why the run was aborted, or null.' }),
        durationMs: count('Wall-clock run length (ms).'),
        workers: count('Worker processes used.'),
        target: text('Resolved target URL the devices connected to.'),
        embeddedTarget: z.boolean().meta({ description: 'The target was herd’s embedded broker.' }),
      })
      .meta({ description: 'What happened to the run as a whole.' }),
    scenario: scenarioSchema,
    environment: z
      .object({
        herdVersion: text('herd version.'),
        node: text('Node.js version.'),
        platform: text('os.platform().'),
        release: text('os.release().'),
        arch: text('os.arch().'),
        cpus: count('Logical CPUs.'),
        cpuModel: text('CPU model name.'),
        totalMemoryBytes: count('Physical memory (bytes).'),
        openFileLimit: z
          .object({
            soft: z.number().int().nullable().meta({ description: 'Soft RLIMIT_NOFILE, or null when unknown.' }),
            hard: z.number().int().nullable().meta({ description: 'Hard RLIMIT_NOFILE, or null when unknown.' }),
          })
          .meta({ description: 'Open-file limit of the harness process.' }),
        ephemeralPortRange: z
          .tuple([z.number().int(), z.number().int()])
          .nullable()
          .meta({ description: 'Local ephemeral port range [low, high], or null when unknown.' }),
      })
      .meta({ description: 'The machine that ran the harness.' }),
    attempts: z
      .object({
        planned: count('First attempts from the plan (one per device).'),
        reconnects: count('Further attempts: after a failure or a drop (by the reconnect policy) and churn.').default(0),
        offline: count('Attempts made while the device’s simulated network was down: never sent to the target.').default(0),
        gaveUp: count('Devices whose reconnect policy gave up.').default(0),
        started: count('Attempts whose socket was opened.'),
        succeeded: count('Attempts that connected.'),
        failed: count('Attempts that failed (refused, reset, rejected, local errors).'),
        timedOut: count('Attempts ended by the connect timeout.'),
        dropped: count('Attempts never started (the harness could not keep up or the run stopped).'),
        inFlightAtEnd: count('Attempts still handshaking when the run ended.'),
      })
      .meta({ description: 'Every planned attempt, accounted for.' }),
    accounting: z
      .object({
        balanced: z.boolean().meta({ description: 'planned = succeeded + failed + timed out + dropped + in flight.' }),
        detail: text('The sum written out.'),
      })
      .meta({ description: 'The accounting check; a mismatch makes the run invalid.' }),
    latency: z
      .record(z.string(), latencySummary)
      .meta({ description: 'Latency series by key: connect.total, connect.service, connect.scheduleLag, connect.failed, phase.tcpConnect, phase.mqttConnack, …' }),
    errors: z
      .array(errorCount)
      .meta({ description: 'Failures by origin, phase and code, most frequent first.' }),
    timeline: z
      .object({
        bucketMs: z.number().int().positive().meta({ description: 'Bucket width (ms); 1000.' }),
        buckets: z.array(timelineBucket).meta({ description: 'One bucket per second from 0 to the end, without gaps.' }),
      })
      .meta({ description: 'Per-second series.' }),
    health: z
      .object({
        saturated: z.boolean().meta({ description: 'The harness, not the target, was the bottleneck at some point.' }),
        reasons: z.array(z.string()).meta({ description: 'Why it was flagged saturated.' }),
        workers: z.array(workerHealth).meta({ description: 'Per worker process.' }),
      })
      .meta({ description: 'The harness watching itself.' }),
    storm: z
      .object({
        peakAttemptsPerS: count('Most attempts started in one second.'),
        peakHandshaking: count('Most handshakes in flight at once.'),
        disconnects: count('Sessions that ended after being connected (clean teardowns excluded).'),
        outageDrops: count('Devices knocked offline by outage waves.'),
      })
      .default({ peakAttemptsPerS: 0, peakHandshaking: 0, disconnects: 0, outageDrops: 0 })
      .meta({ description: 'The storm as a whole: the busiest second (absent in files from before it existed; read as zeros).' }),
    cohorts: z
      .record(z.string(), cohortResult)
      .default({})
      .meta({ description: 'Per device cohort, by cohort name (absent in older files; read as {}).' }),
    outages: z.array(outageResult).default([]).meta({ description: 'One entry per outage wave, in scenario order (absent in older files; read as []).' }),
    thresholds: z
      .array(
        z
          .object({
            metric: text('Metric name, e.g. connect.total.'),
            expression: text('Expression as written, e.g. "p(99) < 2s".'),
            passed: z.boolean().meta({ description: 'The threshold held (no samples = failed).' }),
            observed: z.number().nullable().meta({ description: 'Observed value in the metric’s base unit (µs for latency, a fraction for rates), or null when no samples.' }),
            observedText: text('The observed value for humans, e.g. "16.1ms".'),
          })
          .meta({ description: 'One threshold evaluated on the final data.' }),
      )
      .meta({ description: 'Thresholds in scenario order.' }),
  })
  .meta({ title: 'herd results', description: 'results.json: the single source of truth of a herd run (schema 1.x).' });

// Compile-time guard: the schema and the Results type must describe the same shape.
type Parsed = z.output<typeof resultsSchema>;
const toResults = (p: Parsed): Results => p;
const fromResults = (r: Results): Parsed => r;
void toResults;
void fromResults;

export function resultsJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(resultsSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { $id: 'urn:herd:schema:results:1', ...schema };
}

export function resultsJsonSchemaText(): string {
  return JSON.stringify(resultsJsonSchema(), null, 2) + '\n';
}
