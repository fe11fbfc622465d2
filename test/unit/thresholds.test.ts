import { describe, expect, it } from 'vitest';
import { describeThreshold, parseThresholds } from '../../src/scenario/threshold-parse.js';
import { METRICS } from '../../src/scenario/threshold-metrics.js';
import { evaluateThresholds } from '../../src/thresholds/evaluate.js';
import { createHistogram, summarize } from '../../src/metrics/histogram.js';
import type { Results } from '../../src/results/types.js';

function results(latencies: number[], attempts: Partial<Results['attempts']> = {}): Omit<Results, 'thresholds'> {
  const h = createHistogram();
  for (const v of latencies) h.recordValue(v);
  return {
    attempts: {
      planned: 100,
      started: 100,
      succeeded: 98,
      failed: 1,
      timedOut: 1,
      dropped: 0,
      inFlightAtEnd: 0,
      ...attempts,
    },
    latency: { 'connect.total': summarize(h), 'connect.failed': summarize(createHistogram()) },
    errors: [{ origin: 'local', phase: 'tcpConnect', code: 'EMFILE', count: 2 }],
  } as unknown as Omit<Results, 'thresholds'>;
}

describe('threshold grammar', () => {
  it('parses aggregations, operators and units into base units', () => {
    const { thresholds, problems } = parseThresholds({
      'connect.total': ['p(99) < 2s', 'avg<=150ms', 'max != 1m', 'count >= 10'],
      'errors.rate': ['< 1%', '<= 0.5'],
      'attempts.dropped': ['== 0'],
    });
    expect(problems).toEqual([]);
    expect(thresholds.map((t) => [t.aggregation, t.op, t.bound])).toEqual([
      [{ kind: 'percentile', p: 99 }, '<', 2_000_000],
      [{ kind: 'avg' }, '<=', 150_000],
      [{ kind: 'max' }, '!=', 60_000_000],
      [{ kind: 'count' }, '>=', 10],
      [{ kind: 'value' }, '<', 0.01],
      [{ kind: 'value' }, '<=', 0.5],
      [{ kind: 'value' }, '==', 0],
    ]);
  });

  it('rejects unknown metrics, missing units and misplaced aggregations with paths', () => {
    const { problems } = parseThresholds({
      'connect.totl': ['p(99) < 2s'],
      'connect.total': ['p(99) < 2', 'under 2s', 'p(101) < 1s'],
      'errors.rate': ['p(99) < 1%', '< 2s'],
    });
    expect(problems[0]).toMatch(/^thresholds\.connect\.totl: unknown metric; did you mean connect\.total\?$/);
    expect(problems.slice(1)).toEqual([
      'thresholds.connect.total[0]: "p(99) < 2": a duration needs a unit (us, ms, s, m, h), e.g. "p(99) < 2s"',
      'thresholds.connect.total[1]: cannot read "under 2s"; expected e.g. "p(99) < 2s"',
      'thresholds.connect.total[2]: percentile 101 is outside 0–100',
      'thresholds.errors.rate[0]: p(…) applies only to latency metrics',
      'thresholds.errors.rate[1]: "< 2s": a rate takes % or a fraction, not "s"',
    ]);
  });
});

describe('rates say their unit (issue 24)', () => {
  it('refuses a bare rate of 1 or more, saying both ways to write what was meant', () => {
    const { thresholds, problems } = parseThresholds({
      'errors.rate': ['< 5', '< 1', '<= 0.999', '< 150%', '> -0.1'],
      'connect.successRate': ['>= 99.5'],
    });
    expect(problems).toEqual([
      'thresholds.errors.rate[0]: "< 5": a rate is a share: 5 would be 500%; write 5% or 0.05',
      'thresholds.errors.rate[1]: "< 1": a rate is a share: 1 would be 100%; write 1% or 0.01 (or 100% for all)',
      'thresholds.errors.rate[3]: "< 150%": a rate is a share between 0% and 100%',
      'thresholds.errors.rate[4]: "> -0.1": a rate is a share between 0 and 1 (or 0% and 100%)',
      'thresholds.connect.successRate[0]: ">= 99.5": a rate is a share: 99.5 would be 9950%; write 99.5% or 0.995',
    ]);
    expect(thresholds.map((t) => t.bound)).toEqual([0.999]);
  });

  it('describes each threshold as it was read, rates with their denominator', () => {
    const { thresholds } = parseThresholds({
      'errors.rate': ['< 1%', '<= 0.07', '< 100%'],
      'delivery.lossRate': ['== 0'],
      'connect.total': ['p(99.9) < 1500ms', 'avg <= 250us', 'count >= 10', 'max < 2m'],
      'recovery.p99': ['< 90s'],
      'attempts.failed': ['== 0'],
    });
    expect(thresholds.map(describeThreshold)).toEqual([
      'errors.rate < 1% of attempts started',
      'errors.rate <= 7% of attempts started',
      'errors.rate < 100% of attempts started',
      'delivery.lossRate == 0% of messages sent',
      'connect.total p(99.9) < 1.5s',
      'connect.total avg <= 250µs',
      'connect.total count >= 10',
      'connect.total max < 2m',
      'recovery.p99 < 1.5m',
      'attempts.failed == 0',
    ]);
  });

  it('every rate in the catalogue names its denominator', () => {
    const missing = Object.entries(METRICS)
      .filter(([, d]) => d.kind === 'rate' && !d.denominator)
      .map(([k]) => k);
    expect(missing).toEqual([]);
  });
});

describe('threshold evaluation', () => {
  it('compares observed values from the merged results', () => {
    const latencies = Array.from({ length: 100 }, (_, i) => (i + 1) * 1000); // 1ms … 100ms
    const { thresholds } = parseThresholds({
      'connect.total': ['p(50) <= 50.1ms', 'p(99) < 99ms', 'max < 101ms'],
      'errors.rate': ['< 3%', '< 2%'],
      'errors.local': ['== 0'],
    });
    const r = evaluateThresholds(thresholds, results(latencies));
    expect(r.map((x) => [x.expression, x.passed, x.observed])).toEqual([
      // HDR percentiles report the highest value equivalent within 3 significant digits.
      ['p(50) <= 50.1ms', true, 50_015],
      ['p(99) < 99ms', false, 99_007],
      ['max < 101ms', true, 100_000],
      ['< 3%', true, 0.02],
      ['< 2%', false, 0.02],
      ['== 0', false, 2],
    ]);
    expect(r[3]?.observedText).toBe('2.00%');
  });

  it('fails a threshold that has no samples', () => {
    const { thresholds } = parseThresholds({ 'connect.failed': ['p(99) < 1s'], 'errors.rate': ['< 1%'] });
    const r = evaluateThresholds(thresholds, results([], { started: 0 }));
    expect(r.map((x) => [x.passed, x.observed, x.observedText])).toEqual([
      [false, null, 'no samples'],
      [false, null, 'no samples'],
    ]);
  });
});

describe('session and success metrics', () => {
  const evalOne = (spec: Record<string, string[]>, r: Omit<Results, 'thresholds'>) =>
    evaluateThresholds(parseThresholds(spec).thresholds, r);

  it('gates sessions killed after connecting, of the sessions established', () => {
    const r = {
      ...results([1000], { succeeded: 300 }),
      storm: { peakAttemptsPerS: 0, peakSucceededPerS: 0, peakHandshaking: 0, disconnects: 300, outageDrops: 0 },
    };
    expect(
      evalOne({ 'sessions.lost': ['== 0'], 'sessions.lostRate': ['< 1%'] }, r).map((t) => [t.passed, t.observedText]),
    ).toEqual([
      [false, '300'],
      [false, '100.00%'],
    ]);
    const none = { ...r, attempts: { ...r.attempts, succeeded: 0 } };
    expect(evalOne({ 'sessions.lostRate': ['< 1%'] }, none)[0]).toMatchObject({
      passed: false,
      observed: null,
      observedText: 'no session was established',
    });
  });

  it('connect.successRate is succeeded of started, the share the reports show', () => {
    const r = results([1000], { planned: 100, started: 400, succeeded: 200 });
    expect(evalOne({ 'connect.successRate': ['>= 50%'] }, r)[0]).toMatchObject({ passed: true, observed: 0.5 });
  });

  it('recovery thresholds leave out an outage that hit nobody, and fail when none hit anyone', () => {
    const outage = (dropped: number, p99Us: number) => ({
      name: 'o',
      side: 'target',
      atUs: 0,
      offlineUs: 0,
      mode: 'close',
      dropped,
      recovered: dropped,
      recovery: { p50Us: p99Us, p90Us: p99Us, p99Us, p100Us: p99Us },
    });
    const hitNobody = { ...results([1000]), outages: [outage(0, 0)] } as unknown as Omit<Results, 'thresholds'>;
    expect(evalOne({ 'recovery.p99': ['< 60s'] }, hitNobody)[0]).toMatchObject({
      passed: false,
      observed: null,
      observedText: 'no outage hit a device, so there was nothing to recover',
    });
    const one = { ...results([1000]), outages: [outage(0, 0), outage(200, 260_000)] } as unknown as Omit<
      Results,
      'thresholds'
    >;
    expect(evalOne({ 'recovery.p99': ['< 60s'] }, one)[0]).toMatchObject({ passed: true, observed: 260_000 });
  });

  it('a recovery never reached says which devices were out: hit again by a later outage, or still out at the end', () => {
    const o = (name: string, recovered: number, interrupted: number) => ({
      name,
      side: 'device',
      atUs: 0,
      offlineUs: 0,
      mode: 'reset',
      dropped: 1000,
      recovered,
      interrupted,
      recovery: { p50Us: 2_230_000, p90Us: null, p99Us: null, p100Us: null },
    });
    const r = { ...results([1000]), outages: [o('first', 667, 300), o('second', 900, 0)] } as unknown as Omit<
      Results,
      'thresholds'
    >;
    expect(evalOne({ 'recovery.p99': ['< 60s'] }, r)[0]).toMatchObject({
      passed: false,
      observed: null,
      observedText:
        'never reached (first: 33 of 1000 devices never came back, 300 of 1000 were hit by a later outage before ' +
        'they were back; second: 100 of 1000 devices never came back)',
    });
  });

  it('with no outage at all, a recovery threshold says whether herd was looking for one it did not cause', () => {
    const run = (observedOutages: unknown) =>
      ({ ...results([1000]), outages: [], scenario: { observedOutages } }) as unknown as Omit<Results, 'thresholds'>;
    const looked = run({ windowUs: 2e6, minDevices: 5, share: 0.1 });
    expect(evalOne({ 'recovery.p99': ['< 60s'] }, looked)[0]).toMatchObject({
      passed: false,
      observedText: 'no outage in this run (none declared, and herd observed no fleet-wide loss)',
    });
    expect(evalOne({ 'recovery.p99': ['< 60s'] }, run(null))[0]).toMatchObject({
      observedText: 'no outage in this run (none declared, and observedOutages is off)',
    });
  });
});
