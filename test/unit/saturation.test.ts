import { describe, expect, it } from 'vitest';
import { assessSaturation } from '../../src/metrics/saturation.js';
import type { HealthSample } from '../../src/metrics/health-sample.js';

const ok: HealthSample = { loopDelayP99Us: 2_000, loopDelayMaxUs: 5_000, loopUtilisation: 0.3, cpuPercent: 30, rssBytes: 1e8, openFiles: 100, scheduleLagMaxUs: 1_000 };

describe('harness saturation', () => {
  it('is clean when every limit holds', () => {
    const samples = [0, 1, 2].map((t) => ({ worker: 0, t, sample: ok }));
    expect(assessSaturation(samples, [])).toEqual({ saturated: false, reasons: [] });
  });

  it('names the worker, the limit and the observed value', () => {
    const samples = [
      { worker: 1, t: 0, sample: { ...ok, loopDelayP99Us: 450_000 } },
      ...[1, 2, 3].map((t) => ({ worker: 1, t, sample: { ...ok, loopUtilisation: 0.97 } })),
      { worker: 0, t: 0, sample: { ...ok, scheduleLagMaxUs: 2_500_000 } },
    ];
    const r = assessSaturation(samples, [{ origin: 'local', phase: 'tcpConnect', code: 'EADDRNOTAVAIL', count: 12 }]);
    expect(r.saturated).toBe(true);
    expect(r.reasons).toEqual([
      'worker 0: attempts started up to 2.5s after their intended time (limit 1s)',
      'worker 1: event-loop delay p99 reached 450ms in 1s (limit 200ms)',
      'worker 1: event loop ≥95% busy for 3s in a row',
      '12× EADDRNOTAVAIL in the harness: no free ephemeral port for a source address: add source addresses (--source-ips) or wait for TIME_WAIT to clear',
    ]);
  });

  it('does not flag two busy seconds that are not consecutive', () => {
    const u = [0.97, 0.97, 0.5, 0.97, 0.97].map((x, t) => ({ worker: 0, t, sample: { ...ok, loopUtilisation: x } }));
    expect(assessSaturation(u, []).saturated).toBe(false);
  });
});
