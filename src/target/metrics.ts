/**
 * The target's side of the story, as Prometheus text exposition (format 0.0.4), hand-written:
 * counters and gauges per process, merged by the first process into one page with a
 * `process` label. Snapshots are plain JSON so they cross process boundaries.
 */
import { SCHEME_NAMES, type TransportScheme } from '../util/target-url.js';

/** One listener per scheme herd's devices use. */
export const LISTENERS = SCHEME_NAMES;
export type ListenerName = TransportScheme;

export const REFUSAL_REASONS = [
  'max_connections',
  'outage',
  'rate_exceeded',
  'server_busy',
  'unsupported_protocol',
  'connect_timeout',
  'bad_first_packet',
  'connect_rate',
  'client_connect_rate',
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export const WEBHOOK_RESULTS = ['ok', 'failed', 'lost', 'overflow'] as const;
export type WebhookResult = (typeof WEBHOOK_RESULTS)[number];

export interface TargetMetricsSnapshot {
  process: number;
  pid: number;
  connections: Record<ListenerName, number>;
  acceptsTotal: Record<ListenerName, number>;
  refusalsTotal: Record<RefusalReason, number>;
  handshakesQueued: number;
  /** Admitted CONNECTs / upgrades waiting for or in the modelled service (handshakeCostMs each). */
  handshakesInService: number;
  handshakesInProgress: number;
  /** How late the host ran the target's model: the longest event-loop lateness, and counts past the bound. */
  lagMaxMs: number;
  lagOverBoundTotal: number;
  lagBusySeconds: number;
  mqttSessions: number;
  wsDeviceSessions: number;
  outagesActive: number;
  outageDropsTotal: number;
  publishesReceivedTotal: number;
  deliveriesDroppedTotal: number;
  webhookPostsTotal: Record<WebhookResult, number>;
  /** Cloud-style throttling (issue 16): publishes over the per-connection rate, QoS ≥ 1 ones never acknowledged. */
  publishesThrottledTotal: number;
  pubacksWithheldTotal: number;
  duplicateAcksDroppedTotal: number;
  /** A CONNECT with a client id that already had an open connection, which was then closed. */
  takeoversTotal: number;
  /** MQTT 5 DISCONNECTs the target sent, by reason code ("0x96"). */
  serverDisconnectsTotal: Record<string, number>;
  cpuSecondsTotal: number;
  uptimeSeconds: number;
}

const zeros = <K extends string>(keys: readonly K[]): Record<K, number> =>
  Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

export function emptySnapshot(process: number, pid: number): TargetMetricsSnapshot {
  return {
    process,
    pid,
    connections: zeros(LISTENERS),
    acceptsTotal: zeros(LISTENERS),
    refusalsTotal: zeros(REFUSAL_REASONS),
    handshakesQueued: 0,
    handshakesInService: 0,
    handshakesInProgress: 0,
    lagMaxMs: 0,
    lagOverBoundTotal: 0,
    lagBusySeconds: 0,
    mqttSessions: 0,
    wsDeviceSessions: 0,
    outagesActive: 0,
    outageDropsTotal: 0,
    publishesReceivedTotal: 0,
    deliveriesDroppedTotal: 0,
    webhookPostsTotal: zeros(WEBHOOK_RESULTS),
    publishesThrottledTotal: 0,
    pubacksWithheldTotal: 0,
    duplicateAcksDroppedTotal: 0,
    takeoversTotal: 0,
    serverDisconnectsTotal: {},
    cpuSecondsTotal: 0,
    uptimeSeconds: 0,
  };
}

interface Family {
  name: string;
  type: 'counter' | 'gauge';
  help: string;
  samples(s: TargetMetricsSnapshot): Array<[labels: Record<string, string>, value: number]>;
}

const byKey =
  <K extends string>(label: string, pick: (s: TargetMetricsSnapshot) => Record<K, number>) =>
  (s: TargetMetricsSnapshot): Array<[Record<string, string>, number]> =>
    Object.entries(pick(s)).map(([k, v]) => [{ [label]: k }, v as number]);
const single =
  (pick: (s: TargetMetricsSnapshot) => number) =>
  (s: TargetMetricsSnapshot): Array<[Record<string, string>, number]> => [[{}, pick(s)]];

const FAMILIES: Family[] = [
  {
    name: 'herd_target_connections',
    type: 'gauge',
    help: 'Open TCP connections by listener.',
    samples: byKey('listener', (s) => s.connections),
  },
  {
    name: 'herd_target_accepts_total',
    type: 'counter',
    help: 'TCP connections accepted by listener (including those then refused).',
    samples: byKey('listener', (s) => s.acceptsTotal),
  },
  {
    name: 'herd_target_refusals_total',
    type: 'counter',
    help: 'Connections or handshakes refused, by reason.',
    samples: byKey('reason', (s) => s.refusalsTotal),
  },
  {
    name: 'herd_target_handshakes_queued',
    type: 'gauge',
    help: 'CONNECTs / upgrades waiting for an admission token.',
    samples: single((s) => s.handshakesQueued),
  },
  {
    name: 'herd_target_handshakes_in_service',
    type: 'gauge',
    help: 'Admitted CONNECTs / upgrades waiting for or in the modelled service (handshakeCostMs each, one at a time).',
    samples: single((s) => s.handshakesInService),
  },
  {
    name: 'herd_target_lag_max_ms',
    type: 'gauge',
    help: 'Longest the target ran its model late (event-loop drift, a service ending late): the host fell behind.',
    samples: single((s) => s.lagMaxMs),
  },
  {
    name: 'herd_target_lag_over_bound_total',
    type: 'counter',
    help: 'Probe ticks and service ends more than 100 ms late.',
    samples: single((s) => s.lagOverBoundTotal),
  },
  {
    name: 'herd_target_lag_busy_seconds_total',
    type: 'counter',
    help: 'Seconds the event loop was over 90% busy: the host did not give the target the CPU its I/O needed.',
    samples: single((s) => s.lagBusySeconds),
  },
  {
    name: 'herd_target_handshakes_in_progress',
    type: 'gauge',
    help: 'Accepted connections whose CONNECT or upgrade has not been answered yet (queued ones included).',
    samples: single((s) => s.handshakesInProgress),
  },
  {
    name: 'herd_target_mqtt_sessions',
    type: 'gauge',
    help: 'MQTT clients with an established session.',
    samples: single((s) => s.mqttSessions),
  },
  {
    name: 'herd_target_ws_device_sessions',
    type: 'gauge',
    help: 'Plain WebSocket devices connected on /ws.',
    samples: single((s) => s.wsDeviceSessions),
  },
  {
    name: 'herd_target_outages_active',
    type: 'gauge',
    help: 'Scheduled outages in progress.',
    samples: single((s) => s.outagesActive),
  },
  {
    name: 'herd_target_outage_drops_total',
    type: 'counter',
    help: 'Open connections dropped by an outage.',
    samples: single((s) => s.outageDropsTotal),
  },
  {
    name: 'herd_target_publishes_received_total',
    type: 'counter',
    help: 'PUBLISH packets received from clients.',
    samples: single((s) => s.publishesReceivedTotal),
  },
  {
    name: 'herd_target_deliveries_dropped_total',
    type: 'counter',
    help: 'Deliveries to subscribers silently dropped (messageLossRate, blackhole outages); their publishes were acknowledged.',
    samples: single((s) => s.deliveriesDroppedTotal),
  },
  {
    name: 'herd_target_webhook_posts_total',
    type: 'counter',
    help: 'Webhook forwards by result (lost = dropped on purpose by webhook.lossRate).',
    samples: byKey('result', (s) => s.webhookPostsTotal),
  },
  {
    name: 'herd_target_duplicate_acks_dropped_total',
    type: 'counter',
    help: 'PUBACKs for messages already acknowledged (a resent message acked twice), kept from aedes.',
    samples: single((s) => s.duplicateAcksDroppedTotal),
  },
  {
    name: 'herd_target_publishes_throttled_total',
    type: 'counter',
    help: 'PUBLISH packets over the per-connection rate (throttle.publishesPerS).',
    samples: single((s) => s.publishesThrottledTotal),
  },
  {
    name: 'herd_target_pubacks_withheld_total',
    type: 'counter',
    help: 'Throttled QoS 1/2 publishes never acknowledged.',
    samples: single((s) => s.pubacksWithheldTotal),
  },
  {
    name: 'herd_target_takeovers_total',
    type: 'counter',
    help: 'Connections closed because a new CONNECT came with their client id.',
    samples: single((s) => s.takeoversTotal),
  },
  {
    name: 'herd_target_server_disconnects_total',
    type: 'counter',
    help: 'MQTT 5 DISCONNECTs sent by the target, by reason code.',
    samples: byKey('reason', (s) => s.serverDisconnectsTotal),
  },
  {
    name: 'herd_target_cpu_seconds_total',
    type: 'counter',
    help: 'CPU time (user + system) of the target process.',
    samples: single((s) => s.cpuSecondsTotal),
  },
  {
    name: 'herd_target_uptime_seconds',
    type: 'gauge',
    help: 'Seconds since the target process started.',
    samples: single((s) => s.uptimeSeconds),
  },
];

function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
  );
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/** One exposition page for any number of processes, each sample labelled with its process. */
export function renderExposition(snapshots: readonly TargetMetricsSnapshot[]): string {
  const lines: string[] = [];
  for (const f of FAMILIES) {
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of snapshots) {
      for (const [labels, value] of f.samples(s)) {
        lines.push(
          `${f.name}${labelText({ process: String(s.process), ...labels })} ${Number.isFinite(value) ? value : 0}`,
        );
      }
    }
  }
  return lines.join('\n') + '\n';
}
