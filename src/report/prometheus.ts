/**
 * Prometheus text exposition of a run in progress (pure): what a team needs to watch a storm in
 * the dashboards they already have and to check their alerts fire. Rendered from the
 * coordinator's running totals and the last complete second.
 */
import type { ErrorCount, TimelineBucket } from '../results/types.js';
import type { CounterDelta } from '../metrics/recorder.js';

export interface LiveSnapshot {
  runId: string;
  scenario: string;
  planned: number;
  connectedNow: number;
  totals: CounterDelta;
  errors: ErrorCount[];
  /** The last second every worker has reported, or null before the first. */
  last: TimelineBucket | null;
}

const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

export function renderPrometheus(s: LiveSnapshot): string {
  const out: string[] = [];
  const metric = (name: string, type: 'gauge' | 'counter', help: string, samples: [string, number][]): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of samples) out.push(`${name}${labels} ${Number.isFinite(v) ? v : 0}`);
  };
  const run = `run_id="${esc(s.runId)}",scenario="${esc(s.scenario)}"`;
  metric('herd_run_info', 'gauge', 'The run being measured.', [[`{${run}}`, 1]]);
  metric('herd_devices_planned', 'gauge', 'Devices in the plan.', [['', s.planned]]);
  metric('herd_devices_connected', 'gauge', 'Devices connected now.', [['', s.connectedNow]]);
  const t = s.totals;
  metric('herd_attempts_total', 'counter', 'Connection attempts by outcome.', [
    ['{outcome="started"}', t.started],
    ['{outcome="succeeded"}', t.succeeded],
    ['{outcome="failed"}', t.failed],
    ['{outcome="timed_out"}', t.timedOut],
    ['{outcome="dropped"}', t.dropped],
    ['{outcome="offline"}', t.offlineAttempts],
  ]);
  metric('herd_reconnects_total', 'counter', 'Attempts after the first per device.', [['', t.reconnects]]);
  metric('herd_disconnects_total', 'counter', 'Connected sessions lost without herd asking.', [['', t.disconnects]]);
  metric(
    'herd_errors_total',
    'counter',
    'Failures by origin (local = the harness itself), phase and code.',
    s.errors.map((e) => [`{origin="${esc(e.origin)}",phase="${esc(e.phase)}",code="${esc(e.code)}"}`, e.count]),
  );
  metric('herd_messages_total', 'counter', 'Telemetry messages published and received back.', [
    ['{direction="sent"}', t.messagesSent],
    ['{direction="delivered"}', t.messagesDelivered],
  ]);
  const b = s.last;
  if (b !== null) {
    metric('herd_handshakes_in_flight', 'gauge', 'Handshakes started but not finished (last complete second).', [
      ['', b.handshaking],
    ]);
    metric('herd_attempts_per_second', 'gauge', 'Attempts started in the last complete second.', [['', b.attempts]]);
    const q: [string, number | null][] = [
      ['0.5', b.connectP50Us],
      ['0.9', b.connectP90Us],
      ['0.99', b.connectP99Us],
      ['1', b.connectMaxUs],
    ];
    metric(
      'herd_connect_latency_seconds',
      'gauge',
      'connect.total (from the intended start) of attempts that finished in the last complete second.',
      q.filter((x): x is [string, number] => x[1] !== null).map(([k, v]) => [`{quantile="${k}"}`, v / 1e6]),
    );
    if (b.loopDelayP99Us !== null) {
      metric(
        'herd_harness_loop_delay_seconds',
        'gauge',
        "Worst worker event-loop delay p99 in the last second: the harness's own health.",
        [['', b.loopDelayP99Us / 1e6]],
      );
    }
  }
  return out.join('\n') + '\n';
}
