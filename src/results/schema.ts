/**
 * The zod definition of results.json (schema 1.x): read.ts validates with it, and
 * schemas/results.schema.json and docs/results.md are generated from it (schema-doc.ts),
 * so the three never drift. A compile-time check below keeps it equal to the Results type.
 *
 * Objects are not strict on purpose: a 1.x reader must accept a later 1.y file that adds fields
 * (minor versions only add), so the JSON Schema is generated in input mode without
 * `additionalProperties: false`.
 */
import { z } from 'zod';
import { downlinkResultSchema } from './downlink.js';
import { ABORT_KINDS, RESULTS_SCHEMA_VERSION, type Results } from './types.js';
import {
  cohortResult,
  count,
  deliveryResult,
  errorCount,
  isoTime,
  latencySummary,
  outageResult,
  text,
  timelineBucket,
  webhookResult,
  healthSchema,
  stormSchema,
} from './schema-parts.js';
import { resolvedScenarioSchema } from './scenario-schema.js';

export const resultsSchema = z
  .object({
    schemaVersion: z
      .string()
      .regex(/^\d+\.\d+\.\d+$/)
      .meta({
        description: `Semantic version of this format (this herd writes ${RESULTS_SCHEMA_VERSION}); readers refuse another major version.`,
      }),
    tool: z
      .object({
        name: z.literal('herd').meta({ description: 'Always "herd".' }),
        version: text('Version of herd that wrote the file.'),
      })
      .meta({ description: 'The program that wrote the file.' }),
    run: z
      .object({
        id: text('Run id: UTC start time and a random suffix; also the report folder name.'),
        status: z
          .enum(['completed', 'aborted'])
          .meta({ description: 'completed, or aborted (interrupted or stopped by a failure).' }),
        verdict: z.enum(['passed', 'failed']).meta({
          description:
            'passed when every threshold passed, accounting balanced, the run completed and the harness could not have changed a threshold or the accounting (or --allow-saturated was given).',
        }),
        exitCode: z.number().int().min(0).meta({
          description:
            'Exit code of `herd run`: 0 passed, 1 threshold failed, 3 run failed or the harness could have decided the verdict, 130 interrupted.',
        }),
        startedAt: isoTime('Run start'),
        endedAt: isoTime('Run end'),
        abortedAt: isoTime('When the run was interrupted').nullable(),
        abortReason: z.string().nullable().meta({ description: 'Why the run was aborted, or null.' }),
        abortKind: z.enum(ABORT_KINDS).nullable().default(null).meta({
          description:
            'Why the run was aborted: interrupted (exit 130) or worker-failed (a worker process died, exit 3); null when completed (and in files before 1.3).',
        }),
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
        startAt: z
          .string()
          .nullable()
          .default(null)
          .meta({ description: 'The agreed start time (--start-at, ISO 8601), or null.' }),
        clockOffsetMs: z
          .number()
          .nullable()
          .default(null)
          .meta({ description: 'How far the actual origin was from --start-at (ms), or null.' }),
        mergedFrom: z
          .array(z.string())
          .nullable()
          .default(null)
          .meta({ description: 'For a merged result (herd merge): the run ids of its shards; otherwise null.' }),
        allowSaturated: z.boolean().default(false).meta({
          description:
            '`--allow-saturated` was given: the exit code follows the thresholds even where the harness could have decided them (false in files before 1.1).',
        }),
        embeddedTargetKnobs: z.string().nullable().default(null).meta({
          description:
            'The embedded target’s profile and knobs in words, e.g. "profile protected: …"; null for another target (and in files before 1.1).',
        }),
        sharesMachine: z
          .boolean()
          .default(false)
          .meta({ description: 'The target ran on herd’s machine (embedded, or a loopback URL), sharing its cores.' }),
        targetLag: z
          .object({
            boundMs: count('Lateness that counts (ms).'),
            maxMs: count('Longest the embedded target ran its model late (ms).'),
            overBoundTotal: count('Probe ticks and service ends later than boundMs.'),
            busySeconds: z
              .number()
              .int()
              .min(0)
              .default(0)
              .meta({ description: 'Seconds the target’s event loop was over 90% busy (its busiest process).' }),
          })
          .nullable()
          .default(null)
          .meta({
            description:
              'How late the embedded target’s host ran its model (its event-loop lag) from the run’s origin to the ' +
              'plan’s end, the span whose answers herd measures; null otherwise.',
          }),
        maxHandshakesPerWorker: count('--max-handshakes per worker, 0 for no cap (0 in files before 1.3).').default(0),
        engines: z
          .record(
            z.string(),
            z.enum(['js', 'native', 'mixed']).meta({ description: 'The connect path of that cohort’s devices.' }),
          )
          .nullable()
          .default(null)
          .meta({
            description:
              'Which connect path each cohort’s devices ran on, by cohort name: js, native (the native storm core), or ' +
              'mixed (native to some of its targets); null in files written before it was recorded.',
          }),
        names: z
          .array(
            z.strictObject({
              host: z.string().meta({ description: 'The host name, as the target URL gave it.' }),
              lookups: count('Lookups herd started (one serves the attempts of its device.dnsTtl).'),
              failedLookups: count('Of which failed (the attempts that waited for them failed in `dns`).'),
              addresses: z
                .record(
                  z.string(),
                  z.strictObject({
                    attempts: count('Attempts opened to that address.'),
                    succeeded: count('Of which connected.'),
                    failed: count('Of which failed or timed out after the socket was opened to it.'),
                  }),
                )
                .meta({
                  description: 'Per address the answers gave: the attempts that went there and how they ended.',
                }),
            }),
          )
          .default([])
          .meta({
            description:
              'Per target given by host name: how often this machine’s resolver was asked and how the attempts ' +
              'spread over the addresses it gave; [] for IP targets and in files before 1.7.0.',
          }),
        warmUp: z
          .boolean()
          .nullable()
          .default(null)
          .meta({
            description:
              'Whether the workers warmed their engine on loopback listeners of their own before the origin: false with ' +
              '--no-warm-up (the storm ran on code not yet optimised, so herd spent more CPU per connection early on); null in files before 1.6.',
          }),
      })
      .meta({ description: 'What happened to the run as a whole.' }),
    scenario: resolvedScenarioSchema,
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
        reconnects: count('Further attempts: after a failure or a drop (by the reconnect policy) and churn.').default(
          0,
        ),
        offline: count(
          'Attempts made while the device’s simulated network was down: never sent to the target.',
        ).default(0),
        gaveUp: count('Devices whose reconnect policy gave up.').default(0),
        started: count('Attempts whose socket was opened.'),
        succeeded: count('Attempts that connected.'),
        failed: count('Attempts that failed (refused, reset, rejected, local errors).'),
        timedOut: count('Attempts ended by the connect timeout.'),
        dropped: count('Attempts never started (the harness could not keep up or the run stopped).'),
        inFlightAtEnd: count('Attempts still handshaking when the run ended.'),
        lostToHarness: count(
          'Attempts of worker processes that died: outcome unknown, never the target’s fault.',
        ).default(0),
      })
      .meta({ description: 'Every planned attempt, accounted for.' }),
    accounting: z
      .object({
        balanced: z.boolean().meta({ description: 'planned = succeeded + failed + timed out + dropped + in flight.' }),
        detail: text('The sum written out.'),
      })
      .meta({ description: 'The accounting check; a mismatch makes the run invalid.' }),
    latency: z.record(z.string(), latencySummary).meta({
      description:
        'Latency series by key: connect.total, connect.service, connect.scheduleLag, connect.failed, phase.tcpConnect, phase.mqttConnack, …',
    }),
    errors: z.array(errorCount).meta({ description: 'Failures by origin, phase and code, most frequent first.' }),
    timeline: z
      .object({
        bucketMs: z.number().int().positive().meta({ description: 'Bucket width (ms); 1000.' }),
        buckets: z
          .array(timelineBucket)
          .meta({ description: 'One bucket per second from 0 to the end, without gaps.' }),
      })
      .meta({ description: 'Per-second series.' }),
    health: healthSchema,
    storm: stormSchema,
    cohorts: z
      .record(z.string(), cohortResult)
      .default({})
      .meta({ description: 'Per device cohort, by cohort name (absent in older files; read as {}).' }),
    outages: z
      .array(outageResult)
      .default([])
      .meta({ description: 'One entry per outage wave, in scenario order (absent in older files; read as []).' }),
    requests: z
      .object({
        sent: count('Requests the cloud side sent to connected devices.'),
        answered: count('Answers that came back.'),
        lost: count('Requests never answered (sent − answered).'),
      })
      .nullable()
      .default(null)
      .meta({
        description:
          'Cloud → device requests; null when no cohort takes requests. Round trip: latency["request.roundTrip"].',
      }),
    downlink: downlinkResultSchema,
    sessions: z
      .object({
        present: count('MQTT connects whose CONNACK reported a session already present.'),
        presentRate: z.number().min(0).meta({ description: 'present / succeeded attempts.' }),
      })
      .default({ present: 0, presentRate: 0 })
      .meta({ description: 'Persistent sessions found on reconnect (MQTT clean start off).' }),
    serverSignals: z
      .record(
        z.string(),
        z.number().int().min(0).meta({ description: 'Times this signal came (or the device did this).' }),
      )
      .default({})
      .meta({
        description:
          'MQTT 5 server signals devices acted on, by key: CONNACK_xx / DISCONNECT_xx (reason code), takenOver (client id taken over), referenceFollowed, referenceRefused, keepaliveAdopted.',
      }),
    delivery: deliveryResult
      .nullable()
      .default(null)
      .meta({ description: 'End-to-end message accounting; null when no cohort publishes with echo.' }),
    webhook: webhookResult
      .nullable()
      .default(null)
      .meta({ description: 'Messages the target forwarded to `herd run --webhook-sink`; null when no sink ran.' }),
    thresholds: z
      .array(
        z
          .object({
            metric: text('Metric name, e.g. connect.total.'),
            expression: text('Expression as written, e.g. "p(99) < 2s".'),
            passed: z.boolean().meta({ description: 'The threshold held (no samples = failed).' }),
            observed: z.number().nullable().meta({
              description:
                'Observed value in the metric’s base unit (µs for latency, a fraction for rates), or null when no samples.',
            }),
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
