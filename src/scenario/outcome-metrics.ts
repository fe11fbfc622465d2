/**
 * The metric catalogue's outcome groups: recovery after outages, reconnect attempts, storm peaks,
 * delivery, downlink and replay, requests, sessions and webhook. scenario/threshold-metrics.ts adds
 * them to METRICS after the latency, error and attempt metrics.
 */
import type { Results } from '../results/types.js';
import { count, type MetricDef } from './metric-def.js';

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

/** Why an outage's hit devices are not all back: by the run's end, or hit again by a later outage first. */
function notBackWords(o: { dropped: number; recovered: number; interrupted?: number }): string {
  const again = o.interrupted ?? 0;
  const never = o.dropped - o.recovered - again;
  return [
    never > 0 ? `${never} of ${o.dropped} devices never came back` : '',
    again > 0 ? `${again} of ${o.dropped} were hit by a later outage before they were back` : '',
  ]
    .filter((x) => x !== '')
    .join(', ');
}

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
    const stuck = outages.filter((o) => o.recovery[key] === null).map((o) => `${o.name}: ${notBackWords(o)}`);
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
  | 'lost'
  | 'lostByCloud'
  | 'neverAcknowledged'
  | 'droppedByDevice'
  | 'duplicated'
  | 'duplicatedByCloud'
  | 'duplicatedByResend'
  | 'resent'
  | 'outOfOrder'
  | 'sent'
  | 'published';
function deliveryCount(description: string, key: DeliveryKey): MetricDef {
  return {
    kind: 'count',
    description,
    read: (r) => (r.delivery ? { value: r.delivery[key], samples: r.delivery.published || r.delivery.sent } : null),
    missing: () => 'no telemetry with echo in this scenario',
  };
}

export const OUTCOME_METRICS = {
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
    'Messages never acknowledged nor delivered: in flight when a session ended and not resent (publish.store), QoS 0, or still queued on the device at the end.',
    'neverAcknowledged',
  ),
  'delivery.droppedByDevice': deliveryCount(
    'Messages the device dropped itself and never sent: offline queue full, publish.store none, or refused.',
    'droppedByDevice',
  ),
  'delivery.duplicatedByCloud': deliveryCount(
    'Duplicates the cloud made up (of messages the device sent once).',
    'duplicatedByCloud',
  ),
  'delivery.duplicatedByResend': deliveryCount(
    'Duplicates of messages their device resent after a reconnect (DUP set).',
    'duplicatedByResend',
  ),
  'delivery.resent': deliveryCount('Resends after a reconnect (DUP set): the same messages again.', 'resent'),
  'delivery.published': deliveryCount(
    'Every message devices meant to publish (with echo): the four buckets add up to it.',
    'published',
  ),
  'delivery.duplicated': deliveryCount(
    'Messages received more than once (duplicatedByCloud + duplicatedByResend).',
    'duplicated',
  ),
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
  'downlink.lostByCloud': downlinkCount(
    'Cloud → device messages the target acknowledged to the cloud’s side and never delivered to the device.',
    (d) => [d.lostByCloud, d.sent],
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
} satisfies Record<string, MetricDef>;
