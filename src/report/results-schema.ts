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
import { count, healthSchema, isoTime, scenarioSchema, stormSchema, text, us, usOrNull } from './results-schema-parts.js';
import { decodeHistogram } from '../metrics/histogram.js';

/** An encoded HDR histogram must decode: a hand-edited one is refused here, not crashed on later. */
function decodes(s: string | null): boolean {
  if (s === null || s === '') return true;
  try {
    decodeHistogram(s).destroy();
    return true;
  } catch {
    return false;
  }
}
const HISTOGRAM_ERROR = { error: 'expected an encoded HDR histogram (compressed base64) as herd writes it' };


// Spelled out (not ERROR_ORIGINS) so zod infers the literal union; the type guard below keeps them equal.
const origin = z.enum(['local', 'network', 'tls', 'protocol', 'timeout']).meta({
  description: 'Who failed: local (the harness itself), network, tls, protocol (the target rejected the handshake), timeout (herd’s own timer).',
});

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
    histogram: text('HdrHistogram, compressed base64 (integer µs, 3 significant digits): mergeable and re-readable.').refine((s) => s !== '' && decodes(s), HISTOGRAM_ERROR),
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
      .refine(decodes, HISTOGRAM_ERROR)
      .default(null)
      .meta({ description: 'This second’s connect.total HdrHistogram (compressed base64), for exact merging of shards; null when none.' }),
    harnessRssBytes: z.number().int().min(0).nullable().default(null).meta({ description: 'Resident memory of all worker processes at the end of the second, bytes (null before any sample).' }),
    messagesSent: count('Telemetry messages published in this second.').default(0),
    messagesDelivered: count('Telemetry messages received back (end to end) in this second.').default(0),
  })
  .meta({ description: 'One second of the run.' });

const deliveryCounts = {
  sent: count('Messages published with echo.'),
  delivered: count('Messages received back, once each.'),
  lost: count('Messages sent but never received back (sent − delivered).'),
  duplicated: count('Messages received more than once.'),
  outOfOrder: count('Messages received after a later one of the same device.'),
  tooLate: count('Messages so late they fell out of the sequence window (never counted delivered).'),
  foreign: count('Payloads that were not herd’s (a target that rewrites or injects messages).'),
};

const deliveryResult = z
  .object({
    ...deliveryCounts,
    lossRate: z.number().min(0).meta({ description: 'lost / sent (0 when nothing was sent).' }),
    refused: count('Publishes refused on the device (send buffer or in-flight cap full): never sent.'),
    byCohort: z.record(z.string(), z.object(deliveryCounts)).meta({ description: 'The same counts per cohort.' }),
  })
  .meta({ description: 'End-to-end message accounting.' });

const webhookResult = z
  .object({
    sent: count('Messages the devices report having sent (cohorts publishing with echo; other publishers: highest sequence + 1).'),
    received: count('Forwarded messages with herd’s stamp that reached the sink, duplicates included.'),
    delivered: count('Distinct messages forwarded to the sink.'),
    lost: count('Messages sent but never forwarded to the sink (sent − delivered, per publisher).'),
    duplicated: count('Messages forwarded more than once.'),
    outOfOrder: count('Messages forwarded after a later one of the same device.'),
    tooLate: count('Messages so late they fell out of the sequence window (never counted delivered).'),
    foreign: count('Forwards whose payload is not herd’s (or that arrived before the run origin).'),
    malformed: count('Request bodies that were not the forward JSON (bad JSON, no base64 payload, cut short).'),
    rejected: count('Requests refused: not POST, body over the size cap (413), or over the connection cap.'),
    lossRate: z.number().min(0).meta({ description: 'lost / sent (0 when nothing was sent).' }),
    latency: latencySummary.nullable().meta({ description: 'Publish (the device’s stamp) → the sink has the forwarded body; null before any delivery.' }),
  })
  .meta({ description: 'What `herd run --webhook-sink` counted: messages the target forwarded onward.' });

const nullableUs = (d: string) => z.number().int().min(0).nullable().meta({ description: `${d} (integer µs; null = never reached)` });

const outageResult = z
  .object({
    name: text('Outage wave name.'),
    side: z.enum(['device', 'target']).default('device').meta({ description: 'device: herd dropped the devices; target: the embedded target had the outage.' }),
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
    recoveryHistogram: text('HdrHistogram (compressed base64, µs) of recovery times behind `recovery`, for exact merging of shards.').refine(decodes, HISTOGRAM_ERROR).default(''),
    attemptsHistogram: text('HdrHistogram (compressed base64) of attempts per recovered device behind `reconnectAttempts`.').refine(decodes, HISTOGRAM_ERROR).default(''),
    peakAttemptsPerS: count('Most attempts per second from the outage’s start to the end of the run.'),
    peakHandshaking: count('Most handshakes in flight from the outage’s start to the end of the run.'),
    peakSucceededPerSAfterEnd: count('Most successful connects in one second from the first whole second after the outage ended (0 in files before 1.1).').default(0),
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
        verdict: z.enum(['passed', 'failed']).meta({ description: 'passed when every threshold passed, accounting balanced, the run completed and the harness could not have changed a threshold or the accounting (or --allow-saturated was given).' }),
        exitCode: z.number().int().min(0).meta({ description: 'Exit code of `herd run`: 0 passed, 1 threshold failed, 3 run failed or the harness could have decided the verdict, 130 interrupted.' }),
        startedAt: isoTime('Run start'),
        endedAt: isoTime('Run end'),
        abortedAt: isoTime('When the run was interrupted').nullable(),
        abortReason: z.string().nullable().meta({ description: 'Why the run was aborted, or null.' }),
        durationMs: count('Wall-clock run length (ms).'),
        workers: count('Worker processes used.'),
        target: text('Resolved target URL the devices connected to.'),
        embeddedTarget: z.boolean().meta({ description: 'The target was herd’s embedded broker.' }),
        shard: z
          .object({
            index: z.number().int().min(1).meta({ description: 'This shard’s 1-based index.' }),
            count: z.number().int().min(1).meta({ description: 'How many shards the plan was split into.' }),
          })
          .nullable()
          .default(null)
          .meta({ description: 'Which slice of the plan this run carried (--shard), or null for a whole run.' }),
        startAt: z.string().nullable().default(null).meta({ description: 'The agreed start time (--start-at, ISO 8601), or null.' }),
        clockOffsetMs: z.number().nullable().default(null).meta({ description: 'How far the actual origin was from --start-at (ms), or null.' }),
        mergedFrom: z.array(z.string()).nullable().default(null).meta({ description: 'For a merged result (herd merge): the run ids of its shards; otherwise null.' }),
        allowSaturated: z.boolean().default(false).meta({ description: '`--allow-saturated` was given: the exit code follows the thresholds even where the harness could have decided them (false in files before 1.1).' }),
        embeddedTargetKnobs: z.string().nullable().default(null).meta({ description: 'The embedded target’s profile and knobs in words, e.g. "profile protected: …"; null for another target (and in files before 1.1).' }),
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
        lostToHarness: count('Attempts of worker processes that died: outcome unknown, never the target’s fault.').default(0),
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
    health: healthSchema,
    storm: stormSchema,
    cohorts: z
      .record(z.string(), cohortResult)
      .default({})
      .meta({ description: 'Per device cohort, by cohort name (absent in older files; read as {}).' }),
    outages: z.array(outageResult).default([]).meta({ description: 'One entry per outage wave, in scenario order (absent in older files; read as []).' }),
    requests: z
      .object({
        sent: count('Requests the cloud side sent to connected devices.'),
        answered: count('Answers that came back.'),
        lost: count('Requests never answered (sent − answered).'),
      })
      .nullable()
      .default(null)
      .meta({ description: 'Cloud → device requests; null when no cohort takes requests. Round trip: latency["request.roundTrip"].' }),
    sessions: z
      .object({
        present: count('MQTT connects whose CONNACK reported a session already present.'),
        presentRate: z.number().min(0).meta({ description: 'present / succeeded attempts.' }),
      })
      .default({ present: 0, presentRate: 0 })
      .meta({ description: 'Persistent sessions found on reconnect (MQTT clean start off).' }),
    delivery: deliveryResult.nullable().default(null).meta({ description: 'End-to-end message accounting; null when no cohort publishes with echo.' }),
    webhook: webhookResult.nullable().default(null).meta({ description: 'Messages the target forwarded to `herd run --webhook-sink`; null when no sink ran.' }),
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
