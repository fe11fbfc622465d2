import { describe, expect, it } from 'vitest';
import { Aggregate } from '../../src/metrics/aggregate.js';
import { createHistogram, decodeHistogram, encodeHistogram, recordUs, summarize } from '../../src/metrics/histogram.js';
import { Recorder } from '../../src/metrics/recorder.js';
import { checkAccounting } from '../../src/metrics/accounting.js';

describe('histograms', () => {
  it('round integer µs, clamp negatives to 0 and say so', () => {
    const h = createHistogram();
    expect(recordUs(h, 10.6)).toBe(true);
    expect(recordUs(h, -3)).toBe(false);
    const s = summarize(h);
    expect([s.count, s.minUs, s.maxUs]).toEqual([2, 0, 11]);
  });

  it('survive encoding exactly', () => {
    const h = createHistogram();
    for (let v = 1; v <= 5000; v += 7) h.recordValue(v);
    const d = decodeHistogram(encodeHistogram(h));
    expect(d.totalCount).toBe(h.totalCount);
    for (const p of [50, 90, 99, 99.9]) expect(d.getValueAtPercentile(p)).toBe(h.getValueAtPercentile(p));
  });
});

describe('merging worker deltas', () => {
  it('adds histograms and counters so percentiles equal those of one recorder', () => {
    const single = new Recorder();
    const a = new Recorder();
    const b = new Recorder();
    for (let i = 1; i <= 1000; i++) {
      single.record('connect.total', i * 10);
      (i % 3 === 0 ? a : b).record('connect.total', i * 10);
      (i % 3 === 0 ? a : b).counters.succeeded++;
    }
    a.error({ origin: 'network', phase: 'tcpConnect', code: 'ECONNREFUSED' });
    b.error({ origin: 'network', phase: 'tcpConnect', code: 'ECONNREFUSED' });
    b.error({ origin: 'local', phase: 'tcpConnect', code: 'EMFILE' });
    const agg = new Aggregate();
    agg.add(0, a.flush(0, 333, 0));
    agg.add(1, b.flush(0, 667, 2));
    const one = new Aggregate();
    one.add(0, single.flush(0, 1000, 0));
    expect(agg.latency()['connect.total'].p99Us).toBe(one.latency()['connect.total'].p99Us);
    expect(agg.latency()['connect.total'].count).toBe(1000);
    expect(agg.totals.succeeded).toBe(1000);
    expect(agg.errorList()).toEqual([
      { origin: 'network', phase: 'tcpConnect', code: 'ECONNREFUSED', count: 2 },
      { origin: 'local', phase: 'tcpConnect', code: 'EMFILE', count: 1 },
    ]);
    const tl = agg.timeline();
    expect(tl).toHaveLength(1);
    expect(tl[0]).toMatchObject({
      t: 0,
      connected: 1000,
      handshaking: 2,
      errorsByOrigin: { network: 2, local: 1, tls: 0, protocol: 0, timeout: 0 },
    });
  });

  it('carries each worker’s connected gauge through seconds it did not report', () => {
    const agg = new Aggregate();
    const r = new Recorder();
    agg.add(0, r.flush(0, 10, 0));
    agg.add(1, r.flush(0, 20, 0));
    agg.add(0, r.flush(2, 15, 0));
    expect(agg.timeline().map((b) => b.connected)).toEqual([30, 30, 35]);
    expect(agg.connectedNow()).toBe(35);
  });
});

describe('accounting', () => {
  it('balances when every planned attempt has one outcome', () => {
    const a = {
      planned: 10,
      reconnects: 0,
      offline: 0,
      gaveUp: 0,
      lostToHarness: 0,
      started: 8,
      succeeded: 5,
      failed: 1,
      timedOut: 1,
      dropped: 2,
      inFlightAtEnd: 1,
    };
    expect(checkAccounting(a).balanced).toBe(true);
    expect(checkAccounting({ ...a, succeeded: 6 })).toEqual({
      balanced: false,
      detail:
        'planned 10 = succeeded 6 + failed 1 + timed out 1 + dropped 2 + in flight 1 → MISMATCH (accounted 11, started 8)',
    });
  });
});
