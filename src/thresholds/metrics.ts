/**
 * The metrics thresholds (and compare) can name, and how each is read from results.json.
 * docs/metrics.md describes where each timer starts and stops.
 */
import type { Results } from '../report/results-types.js';

export type MetricKind = 'duration' | 'rate' | 'count';

export interface MetricDef {
  kind: MetricKind;
  description: string;
  /** Latency metrics name a key in results.latency. */
  latencyKey?: string;
  /** Rate and count metrics: the value and, for rates, the denominator (null = no samples). */
  read?: (r: Results) => { value: number; samples: number } | null;
}

const latency = (key: string, description: string): MetricDef => ({ kind: 'duration', latencyKey: key, description });
const count = (description: string, read: (r: Results) => number): MetricDef => ({
  kind: 'count',
  description,
  read: (r) => ({ value: read(r), samples: r.attempts.planned }),
});

export const METRICS: Record<string, MetricDef> = {
  'connect.total': latency('connect.total', 'Intended start → connected (free of coordinated omission).'),
  'connect.service': latency('connect.service', 'Socket opened → connected.'),
  'connect.scheduleLag': latency('connect.scheduleLag', 'Intended start → socket opened (harness lag).'),
  'connect.failed': latency('connect.failed', 'Intended start → failure, for failed attempts only.'),
  'phase.tcpConnect': latency('phase.tcpConnect', 'Socket opened → TCP connected.'),
  'phase.mqttConnack': latency('phase.mqttConnack', 'CONNECT written → CONNACK received.'),
  'errors.rate': {
    kind: 'rate',
    description: '(failed + timed out) / started attempts.',
    read: (r) => {
      const started = r.attempts.started;
      return started === 0 ? null : { value: (r.attempts.failed + r.attempts.timedOut) / started, samples: started };
    },
  },
  'connect.successRate': {
    kind: 'rate',
    description: 'succeeded / planned attempts.',
    read: (r) => (r.attempts.planned === 0 ? null : { value: r.attempts.succeeded / r.attempts.planned, samples: r.attempts.planned }),
  },
  'attempts.succeeded': count('Attempts that connected.', (r) => r.attempts.succeeded),
  'attempts.failed': count('Attempts the target refused, reset or that failed locally.', (r) => r.attempts.failed),
  'attempts.timedOut': count("Attempts ended by herd's own connect timeout.", (r) => r.attempts.timedOut),
  'attempts.dropped': count('Attempts the harness could not start in time.', (r) => r.attempts.dropped),
  'errors.local': count('Failures caused by the harness itself (EMFILE, EADDRNOTAVAIL…).', (r) => sumErrors(r, 'local')),
  'errors.protocol': count('Handshakes the target rejected (CONNACK codes…).', (r) => sumErrors(r, 'protocol')),
  'errors.network': count('Refused, reset, unreachable.', (r) => sumErrors(r, 'network')),
};

function sumErrors(r: Results, origin: string): number {
  return r.errors.filter((e) => e.origin === origin).reduce((a, e) => a + e.count, 0);
}
