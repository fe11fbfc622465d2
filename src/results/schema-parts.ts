/**
 * Building blocks of the results.json schema (schema.ts): field helpers that put the unit in
 * the description, and the sections results.json repeats (latency summaries, errors, timeline
 * buckets, delivery counts, outages, cohorts…).
 */
import { z } from 'zod';
import { decodeHistogram } from './histogram-codec.js';
import { orList } from '../util/suggest.js';
import { OUTAGE_MODES } from './resolved-scenario.js';
import { commandRecord } from './command-schema.js';

export const us = (d: string) =>
  z
    .number()
    .int()
    .min(0)
    .meta({ description: `${d} (integer µs)` });
export const usOrNull = (d: string) =>
  z
    .number()
    .int()
    .min(0)
    .nullable()
    .meta({ description: `${d} (integer µs; null when no samples)` });
export const count = (d: string) => z.number().int().min(0).meta({ description: d });
export const text = (d: string) => z.string().meta({ description: d });
/** A time herd wrote with toISOString(); anything else is refused, never turned into an Invalid Date later. */
export const isoTime = (d: string) =>
  z.iso.datetime({ offset: true }).meta({ description: `${d} (ISO 8601 wall-clock time, UTC)` });

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
  description:
    'Who failed: local (the harness itself), network, tls, protocol (the target rejected the handshake), timeout (herd’s own timer).',
});

export const latencySummary = z
  .object({
    count: count('Samples recorded.'),
    minUs: us('Smallest sample'),
    meanUs: us('Mean, rounded'),
    p50Us: us('50th percentile'),
    p90Us: us('90th percentile'),
    p99Us: us('99th percentile'),
    p999Us: us('99.9th percentile'),
    maxUs: us('Largest sample'),
    histogram: text(
      'HdrHistogram, compressed base64 (integer µs, 3 significant digits): mergeable and re-readable.',
    ).refine((s) => s !== '' && decodes(s), HISTOGRAM_ERROR),
  })
  .meta({ description: 'One latency series.' });

export const errorCount = z
  .object({
    origin,
    phase: text('Phase in which it happened, e.g. tcpConnect, mqttConnack.'),
    code: text('Stable code: an errno (ECONNREFUSED), CONNACK_05, CONNECT_TIMEOUT, …'),
    count: count('Occurrences.'),
  })
  .meta({ description: 'One kind of failure.' });

export const timelineBucket = z
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
    connectHistogram: z.string().nullable().refine(decodes, HISTOGRAM_ERROR).default(null).meta({
      description:
        'This second’s connect.total HdrHistogram (compressed base64), for exact merging of shards; null when none.',
    }),
    harnessRssBytes: z.number().int().min(0).nullable().default(null).meta({
      description: 'Resident memory of all worker processes at the end of the second, bytes (null before any sample).',
    }),
    messagesSent: count('Telemetry messages published in this second.').default(0),
    messagesDelivered: count('Telemetry messages received back (end to end) in this second.').default(0),
  })
  .meta({ description: 'One second of the run.' });

const deliveryCounts = {
  published: count(
    'Every message a device meant to publish with echo: delivered + lostByCloud + neverAcknowledged + droppedByDevice (0 in files before issue 24).',
  ).default(0),
  sent: count('Messages published with echo.'),
  delivered: count('Messages received back, once each.'),
  lost: count('Messages never received back = lostByCloud + neverAcknowledged (sent − delivered, plus queuedAtEnd).'),
  lostByCloud: count(
    'Messages the target acknowledged (PUBACK / PUBCOMP) and never delivered by the end of the run.',
  ).default(0),
  neverAcknowledged: count(
    'Messages never acknowledged and never delivered: in flight when a session ended and not resent (or resent and unacknowledged at the end), QoS 0, or still in the offline queue at the end.',
  ).default(0),
  droppedByDevice: count(
    'Messages the device dropped itself, never sent: offline queue full, publish.store none, or refused (in-flight cap, send buffer).',
  ).default(0),
  queuedAtEnd: count(
    'Of neverAcknowledged: still in the device’s offline queue when the run ended (0 in files before 1.4.0).',
  ).default(0),
  resent: count('Resends after a reconnect (DUP set): the same messages again (0 in files before 1.4.0).').default(0),
  duplicated: count('Messages received more than once = duplicatedByResend + duplicatedByCloud.'),
  duplicatedByResend: count('Duplicates of a message its device had resent (0 in files before 1.4.0).').default(0),
  duplicatedByCloud: count(
    'Duplicates the cloud made up, of messages sent once (files before 1.4.0: read as 0; see duplicated).',
  ).default(0),
  outOfOrder: count('Messages received after a later one of the same device.'),
  tooLate: count('Messages so late they fell out of the sequence window (never counted delivered).'),
  foreign: count('Payloads that were not herd’s (a target that rewrites or injects messages).'),
};

export const deliveryResult = z
  .object({
    ...deliveryCounts,
    lossRate: z.number().min(0).meta({ description: 'lost / sent (0 when nothing was sent).' }),
    refused: count('Publishes refused on the device (send buffer or in-flight cap full): never sent.'),
    targetDropped: count(
      'Deliveries the embedded target dropped on purpose (messageLossRate, blackhole outages), by its own count: messages it acknowledged. null for another target.',
    )
      .nullable()
      .default(null),
    byCohort: z.record(z.string(), z.object(deliveryCounts)).meta({ description: 'The same counts per cohort.' }),
  })
  .meta({ description: 'End-to-end message accounting.' });

export const webhookResult = z
  .object({
    sent: count(
      'Messages the devices report having sent (cohorts publishing with echo; other publishers: highest sequence + 1).',
    ),
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
    latency: latencySummary.nullable().meta({
      description: 'Publish (the device’s stamp) → the sink has the forwarded body; null before any delivery.',
    }),
  })
  .meta({ description: 'What `herd run --webhook-sink` counted: messages the target forwarded onward.' });

export const workerHealth = z
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
    warmUp: z
      .object({
        handshakes: count('Handshakes completed against the worker’s own loopback listener.'),
        elapsedMs: z.number().min(0).meta({ description: 'How long the warm-up took (ms).' }),
      })
      .nullable()
      .default(null)
      .meta({
        description:
          'The worker’s warm-up before the origin: the run’s own engine against a loopback listener of its own, ' +
          'never the target, and in no other figure; null when there was none (and in files before 1.5).',
      }),
  })
  .meta({ description: 'What one worker process saw of itself.' });

const nullableUs = (d: string) =>
  z
    .number()
    .int()
    .min(0)
    .nullable()
    .meta({ description: `${d} (integer µs; null = never reached)` });

export const outageResult = z
  .object({
    name: text('Outage wave name (observed outages: observed-1, observed-2… in time order).'),
    side: z.enum(['device', 'target', 'observed', 'declared']).default('device').meta({
      description:
        'device: herd dropped the devices; target: the embedded target had the outage; observed: a fleet-wide loss herd did not cause (1.3); declared: the scenario’s own commands broke and restored the target (1.4).',
    }),
    atUs: us('When the outage started, from the run origin (observed: its first loss or failed connect)'),
    offlineUs: us(
      'How long the devices were kept offline (observed: until the target accepted a connect again, or the run ended)',
    ),
    mode: text(
      `How the connection was lost: ${orList(OUTAGE_MODES)} (a target outage: reset; an observed outage: observed; a declared outage: declared).`,
    ),
    targetAcceptedAgain: z.boolean().optional().meta({
      description: 'Observed outages: false when the target never accepted a connect again before the run ended.',
    }),
    dropped: count('Devices the outage hit (connected or not at the time).'),
    recovered: count('Hit devices connected again by the end of the run.'),
    interrupted: count('Hit devices a later planned outage hit again before they were back (0 before 1.8).').default(0),
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
        p50: z.number().min(0).meta({ description: 'Median real attempts per hit device.' }),
        p99: z.number().min(0).meta({ description: '99th percentile of real attempts per hit device.' }),
        max: z.number().min(0).meta({ description: 'Most real attempts of one hit device.' }),
      })
      .meta({
        description:
          'Real attempts per hit device: until it was back, or, for a device not back at the end of the run, the attempts it made so far.',
      }),
    recoveryHistogram: text(
      'HdrHistogram (compressed base64, µs) of recovery times behind `recovery`, for exact merging of shards.',
    )
      .refine(decodes, HISTOGRAM_ERROR)
      .default(''),
    attemptsHistogram: text('HdrHistogram (compressed base64) of attempts per hit device behind `reconnectAttempts`.')
      .refine(decodes, HISTOGRAM_ERROR)
      .default(''),
    peakAttemptsPerS: count(
      'Most attempts per second from the outage’s start until the next outage starts (or the run ends).',
    ),
    peakHandshaking: count(
      'Most handshakes in flight from the outage’s start until the next outage starts (or the run ends).',
    ),
    peakSucceededPerSAfterEnd: count(
      'Most successful connects in one timeline second from the one in which the outage ended until the next outage ' +
        'starts (or the run ends); 0 in files before 1.1.',
    ).default(0),
    commands: z
      .array(commandRecord)
      .optional()
      .meta({ description: 'Declared outages: the break and restore commands.' }),
    commandsOk: z.boolean().optional().meta({
      description: 'Declared outages: false when a command failed, timed out, was interrupted or never ran.',
    }),
  })
  .meta({ description: 'What one outage did and how fast the fleet came back.' });

export const cohortResult = z
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
    latency: z
      .record(z.string(), latencySummary)
      .meta({ description: 'The cohort’s latency series, keyed like latency.' }),
    errors: z.array(errorCount).meta({ description: 'The cohort’s failures.' }),
  })
  .meta({ description: 'One device cohort’s results.' });

export const healthSchema = z
  .object({
    saturated: z.boolean().meta({
      description:
        'Sustained evidence that the harness was a bottleneck (≥ 3 s in a row or ≥ 20% of the judged seconds past a limit, startup second and teardown excluded), or it failed or dropped attempts itself.',
    }),
    affectsVerdict: z.boolean().default(false).meta({
      description:
        'What the harness added could have changed a threshold’s outcome or the accounting: exit 3 unless --allow-saturated (files before 1.1: read as false).',
    }),
    reasons: z.array(z.string()).meta({ description: 'The evidence, with figures.' }),
    effects: z
      .array(z.string())
      .default([])
      .meta({ description: 'What the harness did, or could have done, to the numbers and thresholds.' }),
    notCounted: z
      .array(z.string())
      .default([])
      .meta({ description: 'Excursions past a limit too short to count as evidence.' }),
    advice: z
      .array(z.string())
      .default([])
      .meta({ description: 'What to change: --workers, --max-handshakes, a quieter runner, --allow-saturated.' }),
    workerFailures: z
      .array(z.string())
      .default([])
      .meta({ description: 'Worker processes that died during the run, with what was lost.' }),
    workers: z.array(workerHealth).meta({ description: 'Per worker process.' }),
    evidence: z
      .object({
        sustained: z
          .array(z.string())
          .meta({ description: 'Sustained excursions past a limit, one line per worker (also in reasons).' }),
        loopDelayUs: us('Worst event-loop delay p99 among the judged seconds'),
        scheduleLagUs: us('Worst schedule lag among the judged seconds'),
      })
      .nullable()
      .default(null)
      .meta({
        description:
          'What the health samples showed over the judged seconds, kept so herd merge judges shards again exactly (null in files before 1.3).',
      }),
  })
  .meta({ description: 'The harness watching itself.' });

export const stormSchema = z
  .object({
    peakAttemptsPerS: count('Most attempts started in one second.'),
    peakSucceededPerS: count('Most successful connects in one second (0 in files before 1.1).').default(0),
    peakHandshaking: count('Most handshakes in flight at once.'),
    disconnects: count(
      'Sessions lost after connecting, without herd asking (peer close, reset, keepalive timeout, server DISCONNECT); clean teardowns and device-side outage drops excluded.',
    ),
    outageDrops: count('Devices knocked offline by outage waves.'),
  })
  .default({ peakAttemptsPerS: 0, peakSucceededPerS: 0, peakHandshaking: 0, disconnects: 0, outageDrops: 0 })
  .meta({
    description: 'The storm as a whole: the busiest seconds (absent in files from before it existed; read as zeros).',
  });
