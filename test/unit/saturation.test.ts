import { describe, expect, it } from 'vitest';
import {
  findEvidence,
  judgeSaturation,
  saturationAdvice,
  type HealthPoint,
  type SaturationEvidence,
} from '../../src/metrics/saturation.js';
import type { HealthSample } from '../../src/metrics/health-sample.js';

const ok: HealthSample = {
  loopDelayP99Us: 2_000,
  loopDelayMaxUs: 5_000,
  loopUtilisation: 0.3,
  cpuPercent: 30,
  rssBytes: 1e8,
  openFiles: 100,
  scheduleLagMaxUs: 1_000,
};

/** One worker's samples for seconds 0…n−1, with some seconds replaced. */
function seconds(n: number, worker: number, at: Record<number, Partial<HealthSample>> = {}): HealthPoint[] {
  return Array.from({ length: n }, (_, t) => ({ worker, t, sample: { ...ok, ...(at[t] ?? {}) } }));
}

const window = { fromS: 1, toS: 20 };
const advice = { workers: 2, cores: 2, maxHandshakesPerWorker: 0 };
const noEvidence: SaturationEvidence = {
  sustained: false,
  reasons: [],
  transient: [],
  loopDelayUs: 2_000,
  scheduleLagUs: 1_000,
};

describe('saturation evidence', () => {
  it('finds none when every limit holds', () => {
    expect(findEvidence(seconds(22, 0), window)).toEqual({
      sustained: false,
      reasons: [],
      transient: [],
      loopDelayUs: 2_000,
      scheduleLagUs: 1_000,
    });
  });

  it('does not count one slow second (212 ms against a 200 ms limit) as evidence', () => {
    const e = findEvidence(seconds(22, 0, { 7: { loopDelayP99Us: 212_000 } }), window);
    expect(e.sustained).toBe(false);
    expect(e.reasons).toEqual([]);
    expect(e.transient).toEqual([
      'worker 0: 1s past a limit (7s; not sustained, not counted): event-loop delay p99 up to 212ms (limit 200ms)',
    ]);
    expect(e.loopDelayUs).toBe(212_000);
  });

  it('ignores the startup second and teardown', () => {
    const e = findEvidence(
      seconds(24, 0, {
        0: { loopDelayP99Us: 900_000 },
        20: { loopDelayP99Us: 900_000 },
        21: { loopDelayP99Us: 900_000 },
        22: { scheduleLagMaxUs: 5_000_000 },
      }),
      window,
    );
    expect(e).toEqual({ sustained: false, reasons: [], transient: [], loopDelayUs: 2_000, scheduleLagUs: 1_000 });
  });

  it('counts three seconds in a row past a limit, naming the worker, the span, the limit and the worst value', () => {
    const e = findEvidence(
      [
        ...seconds(22, 0),
        ...seconds(22, 1, {
          4: { loopDelayP99Us: 450_000 },
          5: { loopUtilisation: 0.97 },
          6: { loopDelayP99Us: 250_000, scheduleLagMaxUs: 2_500_000 },
        }),
      ],
      window,
    );
    expect(e.sustained).toBe(true);
    expect(e.reasons).toEqual([
      'worker 1: 3s in a row (4s–6s) past a limit: event-loop delay p99 up to 450ms (limit 200ms), event loop ≥95% busy, attempts started up to 2.5s late (limit 1s)',
    ]);
    expect(e.loopDelayUs).toBe(450_000);
    expect(e.scheduleLagUs).toBe(2_500_000);
  });

  it('counts a share of the run: 3 of 10 judged seconds, but not 3 of 19', () => {
    const slow = { 2: { loopDelayP99Us: 300_000 }, 5: { loopDelayP99Us: 300_000 }, 8: { loopDelayP99Us: 300_000 } };
    const short = findEvidence(seconds(12, 0, slow), { fromS: 1, toS: 11 });
    expect(short.reasons).toEqual([
      'worker 0: 3 of 10 judged seconds (30%) past a limit: event-loop delay p99 up to 300ms (limit 200ms)',
    ]);
    const long = findEvidence(seconds(22, 0, slow), window);
    expect(long.sustained).toBe(false);
    expect(long.transient).toEqual([
      'worker 0: 3s past a limit (2s, 5s, 8s; not sustained, not counted): event-loop delay p99 up to 300ms (limit 200ms)',
    ]);
  });

  it('needs the seconds to be consecutive: a gap in the samples breaks the run', () => {
    const pts = seconds(22, 0, {
      3: { loopUtilisation: 0.99 },
      4: { loopUtilisation: 0.99 },
      6: { loopUtilisation: 0.99 },
    }).filter((p) => p.t !== 5);
    expect(findEvidence(pts, window).sustained).toBe(false);
  });
});

describe('saturation judgement', () => {
  const sustained: SaturationEvidence = {
    sustained: true,
    reasons: ['worker 0: 3s in a row (4s–6s) past a limit: event-loop delay p99 up to 450ms (limit 200ms)'],
    transient: [],
    loopDelayUs: 450_000,
    scheduleLagUs: 30_000,
  };

  it('is clean without evidence, local errors or dropped attempts', () => {
    expect(judgeSaturation({ evidence: noEvidence, errors: [], droppedAttempts: 0, flipped: [], ...advice })).toEqual({
      saturated: false,
      affectsVerdict: false,
      reasons: [],
      effects: [],
      advice: [],
    });
  });

  it('warns with figures, without failing the run, when no threshold depends on the harness', () => {
    const j = judgeSaturation({
      evidence: sustained,
      errors: [{ origin: 'timeout', phase: 'mqttConnack', code: 'CONNECT_TIMEOUT', count: 3 }],
      droppedAttempts: 0,
      flipped: [],
      ...advice,
    });
    expect(j.saturated).toBe(true);
    expect(j.affectsVerdict).toBe(false);
    expect(j.effects).toEqual([
      "no threshold's outcome depends on it: every threshold keeps its outcome with the harness's delay taken out (event-loop delay p99 up to 450ms, schedule lag up to 30ms)",
    ]);
    expect(j.advice.length).toBeGreaterThan(0);
  });

  it('fails the run when sustained evidence could have flipped a threshold', () => {
    const flipped = [
      {
        metric: 'connect.total',
        expression: 'p(99) < 1s',
        observedText: '1.2s',
        withoutHarnessText: 'would be 900ms without the schedule lag and 0µs of event-loop delay',
      },
    ];
    const j = judgeSaturation({ evidence: sustained, errors: [], droppedAttempts: 0, flipped, ...advice });
    expect(j.affectsVerdict).toBe(true);
    expect(j.effects).toEqual([
      'threshold connect.total p(99) < 1s failed (observed 1.2s) but could pass: would be 900ms without the schedule lag and 0µs of event-loop delay',
    ]);
  });

  it('does not let a flip decide without sustained evidence', () => {
    const flipped = [
      { metric: 'connect.total', expression: 'p(99) < 1s', observedText: '1.2s', withoutHarnessText: 'would be 900ms' },
    ];
    const j = judgeSaturation({ evidence: noEvidence, errors: [], droppedAttempts: 0, flipped, ...advice });
    expect(j).toMatchObject({ saturated: false, affectsVerdict: false, effects: [] });
  });

  it('fails the run on the harness’s own errors or attempts it could not start, whatever the evidence', () => {
    const local = judgeSaturation({
      evidence: noEvidence,
      errors: [{ origin: 'local', phase: 'tcpConnect', code: 'EADDRNOTAVAIL', count: 12 }],
      droppedAttempts: 0,
      flipped: [],
      ...advice,
    });
    expect(local).toMatchObject({ saturated: true, affectsVerdict: true });
    expect(local.reasons).toEqual([
      '12× EADDRNOTAVAIL in the harness: no free ephemeral port for a source address: add source addresses (--source-ips) or wait for TIME_WAIT to clear',
    ]);
    expect(local.effects).toEqual(['the accounting counts 12 failures that were the harness’s own (origin local)']);
    const dropped = judgeSaturation({ evidence: noEvidence, errors: [], droppedAttempts: 1, flipped: [], ...advice });
    expect(dropped).toMatchObject({
      saturated: true,
      affectsVerdict: true,
      effects: ['1 attempt never started: the harness reached it only after its connect timeout'],
    });
  });
});

describe('saturation advice', () => {
  it('names every way out: workers, --max-handshakes, a quieter runner, --allow-saturated', () => {
    expect(saturationAdvice({ workers: 10, cores: 2, maxHandshakesPerWorker: 0 })).toEqual([
      '10 workers share 2 cores: use --workers 2 (raise `ulimit -n` if the file limit forced more)',
      '--max-handshakes N caps handshakes in flight per worker (the run is then no longer a pure open model)',
      'run on a quieter machine or CI runner: other processes on these cores delay the harness',
      '--allow-saturated exits by the thresholds alone (results.json records that it was given)',
    ]);
    expect(saturationAdvice({ workers: 1, cores: 4, maxHandshakesPerWorker: 64 }).slice(0, 2)).toEqual([
      '--workers 4 spreads the devices over all 4 cores',
      "a lower --max-handshakes (now 64 per worker) bounds the harness's work per second",
    ]);
  });
});
