/**
 * The recorder's per-second bucketing and the recovery percentiles, with exact µs: an event
 * belongs to the second its own time falls in (never the one before, however late the per-second
 * timer fires), and "time until p% of hit devices are back" counts devices that never came back.
 */
import { describe, expect, it } from 'vitest';
import { createHistogram, recordUs } from '../../src/metrics/histogram.js';
import { Recorder } from '../../src/metrics/recorder.js';
import { recoveryPercentiles } from '../../src/metrics/accounting.js';
import { startEngine, type FakeTarget } from '../helpers/engine.js';

describe('engine: per-second bucketing', () => {
  it('999,999 µs is second 0 and 1,000,000 µs second 1; gauges as they stand when a second ends', () => {
    const rec = new Recorder(['default']);
    rec.advance(0, 0, 0);
    rec.count('started', 0);
    rec.advance(999_999, 0, 1);
    rec.count('started', 0);
    rec.advance(1_000_000, 0, 2);
    rec.count('succeeded', 0);
    rec.advance(3_500_000, 1, 1);
    rec.count('failed', 0);
    const ready = rec.takeReady();
    expect(ready.map((d) => [d.t, d.counters.started, d.counters.succeeded, d.connected, d.handshaking])).toEqual([
      [0, 2, 0, 0, 2],
      [1, 0, 1, 1, 1],
    ]);
    const last = rec.finishCurrent(1, 0);
    expect([last.t, last.counters.failed]).toEqual([3, 1]);
  });

  it('through the engine: a CONNACK at 999,999 µs counts in second 0, one at 1,000,000 µs in second 1', async () => {
    // Two devices at 0; handshakes of 999,999 and 1,000,000 µs.
    const target: FakeTarget = {
      handshakeUs: (slot) => (slot === 0 ? 999_999 : 1_000_000),
      pingAnswerUs: () => 1_000,
      closeUs: 1_000,
    };
    const e = startEngine({ devices: 2, waves: [{ type: 'spike' }], hold: '3s' }, target);
    e.to(10e6);
    await e.end;
    const byT = new Map(e.deltas.map((d) => [d.t, d]));
    expect(byT.get(0)?.counters.succeeded).toBe(1);
    expect(byT.get(0)?.connected).toBe(1);
    expect(byT.get(0)?.handshaking).toBe(1);
    expect(byT.get(1)?.counters.succeeded).toBe(1);
    expect(byT.get(1)?.connected).toBe(2);
  });
});

describe('engine: recovery percentiles', () => {
  const hist = (valuesUs: number[]) => {
    const h = createHistogram();
    for (const v of valuesUs) recordUs(h, v);
    return h;
  };

  it('10 hit, 8 back at 1.5…8 s: p50 is the 5th fastest, p90 and beyond never', () => {
    const back = hist([1_500_000, 2_000_000, 3_000_000, 4_000_000, 5_000_000, 6_000_000, 7_000_000, 8_000_000]);
    // HDR (3 significant digits) reports the top of the value's bucket: 5,000,000 → 5,001,215.
    expect(recoveryPercentiles({ dropped: 10, recovered: 8, recoveryUs: back, attempts: hist([1]) })).toEqual({
      p50Us: 5_001_215,
      p90Us: null,
      p99Us: null,
      p100Us: null,
    });
  });

  it('8 hit, all 8 back: p50 the 4th, p90 = p99 = p100 the slowest', () => {
    const back = hist([1_500_000, 2_000_000, 3_000_000, 4_000_000, 5_000_000, 6_000_000, 7_000_000, 8_000_000]);
    expect(recoveryPercentiles({ dropped: 8, recovered: 8, recoveryUs: back, attempts: hist([1]) })).toEqual({
      p50Us: 4_001_791,
      p90Us: 8_003_583,
      p99Us: 8_003_583,
      p100Us: 8_003_583,
    });
  });

  it('an outage that hit nobody: every percentile 0', () => {
    expect(
      recoveryPercentiles({ dropped: 0, recovered: 0, recoveryUs: createHistogram(), attempts: createHistogram() }),
    ).toEqual({ p50Us: 0, p90Us: 0, p99Us: 0, p100Us: 0 });
  });
});
