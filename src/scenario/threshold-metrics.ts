/**
 * The metric catalogue: every metric a threshold or `herd compare` names, once. For thresholds,
 * its kind and how it is read from results.json; for compare, how it is judged (compare/metrics.ts
 * computes the value). docs/metrics.md (thresholds) and docs/reports.md (compare) are tested against it.
 */
import { ERROR_ORIGINS, type Results } from '../results/types.js';
import { count, type CompareFacts, type MetricDef } from './metric-def.js';
import { OUTCOME_METRICS } from './outcome-metrics.js';

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

Object.assign(METRICS, OUTCOME_METRICS);

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
  'delivery.duplicatedByCloud': {
    group: 'delivery',
    direction: 'lower',
    definition: 'duplicates the cloud made up (not the devices’ resends) / published',
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
