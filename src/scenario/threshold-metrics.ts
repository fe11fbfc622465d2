/**
 * The metric catalogue: every metric a threshold or `herd compare` names, once. For thresholds,
 * its kind and how it is read from results.json; for compare, how it is judged (compare/metrics.ts
 * computes the value). docs/metrics.md (thresholds) and docs/reports.md (compare) are tested against it.
 */
import { ERROR_ORIGINS, type Results } from '../results/types.js';

/** duration: a latency distribution (needs an aggregation); time: one duration value; rate; count. */
export type MetricKind = 'duration' | 'time' | 'rate' | 'count';

/** How `herd compare` judges the metric of this name: better when lower, higher, or not judged. */
export interface CompareFacts {
  /** The group it is shown under and that a --tolerance may name, e.g. connect.total, errors. */
  group: string;
  direction: 'lower' | 'higher' | 'neutral';
  /** What compare's number is, with its denominator for shares (a latency's: per percentile). */
  definition: string;
  /** Why a neutral metric is not judged. */
  notJudged?: string;
}

export interface MetricDef {
  kind: MetricKind;
  description: string;
  /** Latency metrics name a key in results.latency. */
  latencyKey?: string;
  /** Rate and count metrics: the value and, for rates, the denominator (null = no samples). */
  read?: (r: Results) => { value: number; samples: number } | null;
  /** Rates: what the share is of, as `herd validate` echoes it ("of attempts started"). */
  denominator?: string;
  /** Why `read` gave null, when "no samples" would mislead. */
  missing?: (r: Results) => string;
  /** Absent: compare does not show it under this name. */
  compare?: CompareFacts;
}

const latency = (key: string, description: string, notJudged?: string): MetricDef => ({
  kind: 'duration',
  latencyKey: key,
  description,
  compare: {
    group: key,
    direction: notJudged === undefined ? 'lower' : 'neutral',
    definition: description,
    ...(notJudged === undefined ? {} : { notJudged }),
  },
});
const count = (description: string, read: (r: Results) => number): MetricDef => ({
  kind: 'count',
  description,
  read: (r) => ({ value: read(r), samples: r.attempts.planned }),
});

/** A count from results.downlink (issue 16): [value, samples]. */
const downlinkCount = (
  description: string,
  pick: (d: NonNullable<Results['downlink']>) => [number, number],
): MetricDef => ({
  kind: 'count',
  description,
  read: (r) => {
    if (!r.downlink) return null;
    const [value, samples] = pick(r.downlink);
    return { value, samples };
  },
  missing: () => 'no downlink in this scenario',
});

export const METRICS: Record<string, MetricDef> = {
  'connect.total': latency('connect.total', 'Intended start → connected (free of coordinated omission).'),
  'connect.service': latency('connect.service', 'Socket opened → connected.'),
  'connect.scheduleLag': latency(
    'connect.scheduleLag',
    'Intended start → socket opened (harness lag).',
    'the harness’s own lag: it says how busy this machine was, not how the target did',
  ),
  'connect.failed': latency(
    'connect.failed',
    'Intended start → failure, for failed attempts only.',
    'time to failure: failing sooner is neither better nor worse',
  ),
  'phase.tcpConnect': latency('phase.tcpConnect', 'Socket opened → TCP connected.'),
  'phase.mqttConnack': latency('phase.mqttConnack', 'Transport ready → CONNACK received.'),
  'phase.dns': latency('phase.dns', 'Name lookup (only when the target is a host name).'),
  'phase.tlsHandshake': latency('phase.tlsHandshake', 'TCP connected → TLS handshake done (full and resumed).'),
  'phase.tlsFull': latency('phase.tlsFull', 'Full TLS handshakes only.'),
  'phase.tlsResumed': latency('phase.tlsResumed', 'Resumed TLS handshakes only.'),
  'phase.wsUpgrade': latency('phase.wsUpgrade', 'WebSocket upgrade request → 101 response.'),
  'message.subscribeAck': latency('message.subscribeAck', 'SUBSCRIBE sent → SUBACK.'),
  'message.publishAck': latency('message.publishAck', 'PUBLISH sent → PUBACK (QoS 1) or PUBCOMP (QoS 2).'),
  'request.roundTrip': latency('request.roundTrip', 'Cloud sends a request → the device’s answer arrives back.'),
  'delivery.latency': latency('delivery.latency', 'PUBLISH sent → the same message received back (end to end).'),
  'downlink.latency': latency(
    'downlink.latency',
    'The cloud sends a downlink message → the device receives it (time queued while offline included).',
  ),
  'replay.drain': latency(
    'replay.drain',
    'A resumed persistent session’s CONNACK → the last message queued before it received (backlog drained).',
  ),
  'replay.duration': latency('replay.duration', 'First → last replayed message of a resumed session.'),
  'errors.rate': {
    kind: 'rate',
    denominator: 'attempts started',
    description:
      'Connect attempts that failed or timed out / started attempts (load shedding included; lost sessions are sessions.lostRate).',
    read: (r) => {
      const started = r.attempts.started;
      return started === 0 ? null : { value: (r.attempts.failed + r.attempts.timedOut) / started, samples: started };
    },
  },
  'connect.successRate': {
    kind: 'rate',
    denominator: 'attempts started',
    description: 'succeeded / started attempts (the share every report shows; offline attempts were never sent).',
    read: (r) =>
      r.attempts.started === 0
        ? null
        : { value: r.attempts.succeeded / r.attempts.started, samples: r.attempts.started },
  },
  'attempts.succeeded': count('Attempts that connected.', (r) => r.attempts.succeeded),
  'attempts.failed': count('Attempts the target refused, reset or that failed locally.', (r) => r.attempts.failed),
  'attempts.timedOut': count("Attempts ended by herd's own connect timeout.", (r) => r.attempts.timedOut),
  'attempts.dropped': count('Attempts the harness could not start in time.', (r) => r.attempts.dropped),
  'errors.local': count('Failures caused by the harness itself (EMFILE, EADDRNOTAVAIL…).', (r) =>
    sumErrors(r, 'local'),
  ),
  'errors.protocol': count('Handshakes the target rejected (CONNACK codes…).', (r) => sumErrors(r, 'protocol')),
  'errors.network': count('Refused, reset, unreachable.', (r) => sumErrors(r, 'network')),
};

/** The worst value over the outages that hit devices; null when none did or one never reached the share. */
const recovery = (key: 'p50Us' | 'p90Us' | 'p99Us' | 'p100Us', share: string): MetricDef => ({
  kind: 'time',
  description: `Time from the end of an outage until ${share} of the devices it hit were connected again (worst outage).`,
  missing: (r) => {
    const outages = (r.outages ?? []).filter((o) => o.dropped > 0);
    if ((r.outages ?? []).length === 0) {
      return r.scenario.observedOutages === null
        ? 'no outage in this run (none declared, and observedOutages is off)'
        : 'no outage in this run (none declared, and herd observed no fleet-wide loss)';
    }
    if (outages.length === 0) return 'no outage hit a device, so there was nothing to recover';
    const stuck = outages
      .filter((o) => o.recovery[key] === null)
      .map((o) => `${o.name}: ${o.dropped - o.recovered} of ${o.dropped} devices never came back`);
    return `never reached (${stuck.join('; ')})`;
  },
  read: (r) => {
    // An outage that hit nobody has nothing to recover: it neither passes nor fails a recovery threshold.
    const outages = (r.outages ?? []).filter((o) => o.dropped > 0);
    if (outages.length === 0 || outages.some((o) => o.recovery[key] === null)) return null;
    return {
      value: Math.max(...outages.map((o) => o.recovery[key] as number)),
      samples: outages.reduce((a, o) => a + o.dropped, 0),
    };
  },
});

const worstOutage = (description: string, read: (o: Results['outages'][number]) => number): MetricDef => ({
  kind: 'count',
  description,
  read: (r) => {
    const outages = r.outages ?? [];
    return outages.length === 0 ? null : { value: Math.max(...outages.map(read)), samples: outages.length };
  },
});

type DeliveryKey =
  'lost' | 'lostByCloud' | 'neverAcknowledged' | 'droppedByDevice' | 'duplicated' | 'outOfOrder' | 'sent' | 'published';
function deliveryCount(description: string, key: DeliveryKey): MetricDef {
  return {
    kind: 'count',
    description,
    read: (r) => (r.delivery ? { value: r.delivery[key], samples: r.delivery.published || r.delivery.sent } : null),
    missing: () => 'no telemetry with echo in this scenario',
  };
}

Object.assign(METRICS, {
  'recovery.p50': recovery('p50Us', '50%'),
  'recovery.p90': recovery('p90Us', '90%'),
  'recovery.p99': recovery('p99Us', '99%'),
  'recovery.p100': recovery('p100Us', 'all'),
  'reconnect.attempts.max': worstOutage(
    'Most real attempts of one hit device after an outage (one not back: attempts so far).',
    (o) => o.reconnectAttempts.max,
  ),
  'reconnect.attempts.p99': worstOutage(
    'p99 of real attempts per hit device after an outage (devices not back included).',
    (o) => o.reconnectAttempts.p99,
  ),
  'attempts.peakPerS': count('Most connection attempts started in one second.', (r) => r.storm?.peakAttemptsPerS ?? 0),
  'handshakes.peak': count('Most handshakes in flight at once.', (r) => r.storm?.peakHandshaking ?? 0),
  'attempts.reconnects': count(
    'Attempts after the first per device (retries, reconnects, churn).',
    (r) => r.attempts.reconnects ?? 0,
  ),
  'attempts.gaveUp': count('Devices whose reconnect policy gave up.', (r) => r.attempts.gaveUp ?? 0),
  'delivery.lost': deliveryCount('Messages sent but never received back (lostByCloud + neverAcknowledged).', 'lost'),
  'delivery.lostByCloud': deliveryCount(
    'Messages the target acknowledged (PUBACK / PUBCOMP) and never delivered by the end of the run.',
    'lostByCloud',
  ),
  'delivery.neverAcknowledged': deliveryCount(
    'Messages sent that were never acknowledged nor delivered (in flight when the session or run ended; QoS 0).',
    'neverAcknowledged',
  ),
  'delivery.droppedByDevice': deliveryCount('Messages the device dropped itself and never sent.', 'droppedByDevice'),
  'delivery.published': deliveryCount(
    'Every message devices meant to publish (with echo): the four buckets add up to it.',
    'published',
  ),
  'delivery.duplicated': deliveryCount('Messages received more than once.', 'duplicated'),
  'delivery.outOfOrder': deliveryCount('Messages received after a later one from the same device.', 'outOfOrder'),
  'delivery.sent': deliveryCount('Messages published (with echo).', 'sent'),
  'delivery.lossRate': {
    kind: 'rate',
    denominator: 'messages sent',
    description: 'lost / sent messages.',
    read: (r) => (r.delivery && r.delivery.sent > 0 ? { value: r.delivery.lossRate, samples: r.delivery.sent } : null),
    missing: (r) => (r.delivery ? 'no messages sent' : 'no telemetry with echo in this scenario'),
  },
  'downlink.lost': downlinkCount(
    'Cloud → device messages never received (sent while a clean-session device was offline, or dropped by the target).',
    (d) => [d.lost, d.sent],
  ),
  'replay.undrained': downlinkCount(
    'Resumed sessions whose queued messages were not all delivered before the session (or the run) ended.',
    (d) => [d.replay.undrained, d.replay.sessions],
  ),
  'replay.sessionsLost': downlinkCount(
    'Reconnects of persistent-session devices whose session the target did not keep (their queued messages are gone).',
    (d) => [d.sessions.lost, d.sessions.resumed + d.sessions.lost],
  ),
  'requests.lost': {
    kind: 'count',
    description: 'Cloud → device requests never answered.',
    read: (r) => (r.requests ? { value: r.requests.lost, samples: r.requests.sent } : null),
    missing: () => 'no requests in this scenario',
  },
  'sessions.presentRate': {
    kind: 'rate',
    denominator: 'successful connects',
    description: 'Share of successful MQTT connects that found their session present.',
    read: (r) =>
      r.attempts.succeeded === 0 ? null : { value: r.sessions?.presentRate ?? 0, samples: r.attempts.succeeded },
  },
  disconnects: count(
    'Connected sessions lost without herd asking (the same number as sessions.lost).',
    (r) => r.storm?.disconnects ?? 0,
  ),
  'sessions.lost': {
    kind: 'count',
    description:
      'Sessions killed after connecting, without herd asking (peer close or reset, server DISCONNECT, keepalive timeout).',
    read: (r) => ({ value: r.storm?.disconnects ?? 0, samples: r.attempts.succeeded }),
  },
  'sessions.lostRate': {
    kind: 'rate',
    denominator: 'sessions established',
    description: 'sessions.lost / succeeded attempts (sessions established).',
    read: (r) =>
      r.attempts.succeeded === 0
        ? null
        : { value: (r.storm?.disconnects ?? 0) / r.attempts.succeeded, samples: r.attempts.succeeded },
    missing: () => 'no session was established',
  },
  'webhook.lost': {
    kind: 'count',
    description: 'Messages devices sent that the target never forwarded to --webhook-sink.',
    read: (r) => (r.webhook ? { value: r.webhook.lost, samples: r.webhook.sent } : null),
    missing: () => 'no --webhook-sink in this run',
  },
  'webhook.lossRate': {
    kind: 'rate',
    denominator: 'messages sent',
    description: 'webhook lost / sent messages.',
    read: (r) => (r.webhook && r.webhook.sent > 0 ? { value: r.webhook.lossRate, samples: r.webhook.sent } : null),
    missing: (r) => (r.webhook ? 'no messages sent' : 'no --webhook-sink in this run'),
  },
} satisfies Record<string, MetricDef>);

function sumErrors(r: Results, origin: string): number {
  return r.errors.filter((e) => e.origin === origin).reduce((a, e) => a + e.count, 0);
}

/** Compare's attempt counts are context: shown per run, never judged (the shares are). */
const context = (definition: string): CompareFacts => ({
  group: 'attempts',
  direction: 'neutral',
  definition,
  notJudged: 'context: the shares are judged',
});
const errorShare = (definition: string): CompareFacts => ({ group: 'errors', direction: 'lower', definition });

/** How compare judges the metrics a threshold can name too. */
const COMPARED: Record<string, CompareFacts> = {
  'connect.successRate': { group: 'errors', direction: 'higher', definition: 'succeeded / started attempts' },
  // Not the threshold's errors.rate: compare leaves deliberate shedding out (shed.rate shows it).
  'errors.rate': errorShare('(failed + timed out − shed) / started attempts: failures other than deliberate shedding'),
  'attempts.gaveUp': errorShare('devices whose reconnect policy gave up / planned devices'),
  'attempts.dropped': {
    group: 'harness',
    direction: 'neutral',
    definition: 'attempts herd could not start in time / (started + dropped)',
    notJudged: 'the harness’s own shortfall, not the target’s: see the notes',
  },
  'delivery.lossRate': { group: 'delivery', direction: 'lower', definition: 'messages lost / sent' },
  'delivery.lostByCloud': {
    group: 'delivery',
    direction: 'lower',
    definition: 'messages the target acknowledged and never delivered / published',
  },
  'delivery.neverAcknowledged': {
    group: 'delivery',
    direction: 'lower',
    definition: 'messages never acknowledged nor delivered / published',
  },
  'delivery.droppedByDevice': {
    group: 'delivery',
    direction: 'lower',
    definition: 'messages the device dropped itself / published',
  },
  'attempts.succeeded': context('attempts that connected'),
  'attempts.failed': context('attempts the target refused or reset, shedding included'),
  'attempts.timedOut': context('attempts ended by herd’s connect timeout'),
  'attempts.reconnects': context('attempts after a failure, drop or churn'),
};
for (const [key, facts] of Object.entries(COMPARED)) (METRICS[key] as MetricDef).compare = facts;

/** Metrics only compare shows (no threshold names them). */
export const COMPARE_ONLY: Record<string, CompareFacts> = {
  ...Object.fromEntries(
    ERROR_ORIGINS.map((o) => [
      `errors.${o}`,
      errorShare(`${o} errors (any phase, shedding excluded) / started attempts`),
    ]),
  ),
  'attempts.inFlightAtEnd': errorShare('attempts unanswered at teardown / started attempts'),
  'shed.rate': {
    group: 'shedding',
    direction: 'neutral',
    definition:
      'attempts the target refused by deliberate shedding (CONNACK 0x89/0x9F, HTTP 429/503; CONNACK 3 from the embedded target) / started attempts',
    notJudged:
      'deliberate shedding is the target protecting itself: its cost shows in the success share and recovery, which are judged',
  },
  'shed.sessions': {
    group: 'shedding',
    direction: 'neutral',
    definition: 'held sessions the target shed (DISCONNECT 0x89/0x9F, WebSocket 1013) / succeeded attempts',
    notJudged: 'deliberate shedding',
  },
  'attempts.planned': context('first attempts from the plan'),
  'attempts.started': context('attempts sent to the target'),
  'attempts.offline': context('attempts while the device’s network was down (never sent)'),
};

/** How compare judges the metric `key` (a latency series, or a share or count it shows). */
export function compareFacts(key: string): CompareFacts | undefined {
  return METRICS[key]?.compare ?? COMPARE_ONLY[key];
}
