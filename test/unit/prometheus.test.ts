import { describe, expect, it } from 'vitest';
import { renderPrometheus } from '../../src/report/prometheus.js';
import { emptyCounters } from '../../src/metrics/recorder.js';

describe('Prometheus exposition', () => {
  it('renders counters, labelled errors and last-second quantiles in seconds', () => {
    const text = renderPrometheus({
      runId: 'r1',
      scenario: 'a "quoted" name',
      planned: 10,
      connectedNow: 7,
      totals: { ...emptyCounters(), started: 9, succeeded: 7, failed: 2 },
      errors: [{ origin: 'protocol', phase: 'mqttConnack', code: 'CONNACK_89', count: 2 }],
      last: {
        t: 3,
        attempts: 4,
        succeeded: 3,
        failed: 1,
        timedOut: 0,
        dropped: 0,
        disconnects: 0,
        connected: 7,
        handshaking: 1,
        errorsByOrigin: { local: 0, network: 0, tls: 0, protocol: 1, timeout: 0 },
        connectP50Us: 1500,
        connectP90Us: 2000,
        connectP99Us: 2500,
        connectMaxUs: 3000,
        loopDelayP99Us: 4000,
        reconnects: 0,
        offlineAttempts: 0,
        peakHandshaking: 2,
        connectHistogram: null,
        harnessRssBytes: null,
        messagesSent: 0,
        messagesDelivered: 0,
      },
    });
    const lines = text.split('\n');
    expect(lines).toContain('herd_run_info{run_id="r1",scenario="a \\"quoted\\" name"} 1');
    expect(lines).toContain('herd_devices_connected 7');
    expect(lines).toContain('herd_attempts_total{outcome="failed"} 2');
    expect(lines).toContain('herd_errors_total{origin="protocol",phase="mqttConnack",code="CONNACK_89"} 2');
    expect(lines).toContain('herd_connect_latency_seconds{quantile="0.99"} 0.0025');
    expect(lines).toContain('herd_harness_loop_delay_seconds 0.004');
    expect(lines.filter((l) => l.startsWith('# TYPE ')).length).toBe(
      lines.filter((l) => l.startsWith('# HELP ')).length,
    );
  });
});
