import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { checkResults } from '../../src/results/read.js';
import type { OutageResult, Results } from '../../src/results/types.js';
import { compareRuns, judge, scenarioDifferences, type CompareOptions, type Comparison } from '../../src/compare/compare.js';
import { parseTolerance, parseToleranceOverrides } from '../../src/compare/tolerance.js';
import { renderCompareMarkdown, renderCompareText, renderComparison } from '../../src/compare/render.js';
import { HerdError } from '../../src/errors.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/results-quickstart.json', import.meta.url));
const load = (): Results => checkResults(JSON.parse(readFileSync(FIXTURE, 'utf8')), FIXTURE);

function opts(o: Partial<CompareOptions> = {}): CompareOptions {
  return { basePath: 'a.json', candidatePath: 'b.json', maxRegression: parseTolerance('10%', 'test'), overrides: new Map(), allowDifferentScenarios: false, ...o };
}

function row(c: Comparison, key: string) {
  const r = c.rows.find((x) => x.key === key);
  if (!r) throw new Error(`no row ${key}`);
  return r;
}

function herdError(fn: () => unknown): HerdError {
  try {
    fn();
  } catch (err) {
    if (err instanceof HerdError) return err;
    throw err;
  }
  throw new Error('expected a HerdError');
}

const outage = (p99Us: number | null): OutageResult => ({
  name: 'broker-failover',
  side: 'device',
  atUs: 5_000_000,
  offlineUs: 2_000_000,
  mode: 'reset',
  dropped: 100,
  recovered: p99Us === null ? 90 : 100,
  recovery: { p50Us: 400_000, p90Us: 900_000, p99Us, p100Us: p99Us },
  reconnectAttempts: { p50: 1, p99: 3, max: 4 },
  recoveryHistogram: '',
  attemptsHistogram: '',
  peakAttemptsPerS: 100,
  peakHandshaking: 40,
  peakSucceededPerSAfterEnd: 0,
});

describe('compare', () => {
  it('a run against itself: nothing changed, passed', () => {
    const c = compareRuns(load(), load(), opts());
    expect(c.verdict).toBe('passed');
    expect(c.regressions).toEqual([]);
    expect(row(c, 'connect.total.p99')).toMatchObject({ base: 16079, candidate: 16079, change: 0, relativeChange: 0, status: 'same' });
    expect(row(c, 'errors.rate')).toMatchObject({ base: 0, candidate: 0, status: 'same' });
    // No samples on either side: shown as n/a, never judged.
    expect(row(c, 'connect.failed.p99')).toMatchObject({ base: null, candidate: null, status: 'n/a' });
  });

  it('latency up 24.4% is a regression at 10% and within a 25% per-metric override', () => {
    const cand = load();
    (cand.latency['connect.total'] as { p99Us: number }).p99Us = 20000;
    const c = compareRuns(load(), cand, opts());
    const r = row(c, 'connect.total.p99');
    expect(r).toMatchObject({ base: 16079, candidate: 20000, change: 3921, status: 'worse', tolerance: '10%', direction: 'lower' });
    expect(r.relativeChange).toBeCloseTo(3921 / 16079, 12);
    expect(c.verdict).toBe('regressed');
    expect(c.regressions).toEqual(['connect.total.p99']);

    const exact = compareRuns(load(), cand, opts({ overrides: parseToleranceOverrides(['connect.total.p99=25%']) }));
    expect(row(exact, 'connect.total.p99')).toMatchObject({ status: 'within', tolerance: '25%' });
    expect(exact.verdict).toBe('passed');
    // A group override applies to every aggregation of the series; an absolute one in µs.
    const group = compareRuns(load(), cand, opts({ overrides: parseToleranceOverrides(['connect.total=3921us']) }));
    expect(row(group, 'connect.total.p99')).toMatchObject({ status: 'within', tolerance: '3921us' });
    const tight = compareRuns(load(), cand, opts({ overrides: parseToleranceOverrides(['connect.total=3.9ms']) }));
    expect(row(tight, 'connect.total.p99').status).toBe('worse');
  });

  it('lower latency beyond tolerance is better, and better never fails the verdict', () => {
    const cand = load();
    (cand.latency['connect.total'] as { p50Us: number }).p50Us = 1000;
    const c = compareRuns(load(), cand, opts());
    expect(row(c, 'connect.total.p50')).toMatchObject({ base: 1539, candidate: 1000, change: -539, status: 'better' });
    expect(row(c, 'connect.total.p50').relativeChange).toBeCloseTo(-539 / 1539, 12);
    expect(c.improvements).toEqual(['connect.total.p50']);
    expect(c.verdict).toBe('passed');
  });

  it('errors from zero are a regression whatever the relative tolerance; success rate is higher-is-better', () => {
    const cand = load();
    cand.attempts.succeeded = 950;
    cand.attempts.failed = 30;
    cand.attempts.timedOut = 20;
    cand.errors = [
      { origin: 'network', phase: 'tcpConnect', code: 'ECONNRESET', count: 30 },
      { origin: 'timeout', phase: 'mqttConnack', code: 'CONNECT_TIMEOUT', count: 20 },
    ];
    const c = compareRuns(load(), cand, opts({ maxRegression: parseTolerance('1000%', 't') }));
    expect(row(c, 'errors.rate')).toMatchObject({ base: 0, candidate: 0.05, change: 0.05, relativeChange: null, status: 'worse', unit: 'ratio' });
    expect(row(c, 'connect.successRate')).toMatchObject({ base: 1, candidate: 0.95, status: 'within', direction: 'higher' });
    expect(row(c, 'errors.network')).toMatchObject({ base: 0, candidate: 30, status: 'worse' });
    expect(row(c, 'attempts.succeeded').status).toBe('within');
    expect(c.regressions).toEqual(['errors.rate', 'errors.network', 'errors.timeout', 'attempts.failed', 'attempts.timedOut']);
    // Percentage points: 5pp allows exactly this rise in the error rate.
    const pp = compareRuns(load(), cand, opts({ overrides: parseToleranceOverrides(['errors.rate=5pp']) }));
    expect(row(pp, 'errors.rate').status).toBe('within');
  });

  it('judges each direction exactly at and past the tolerance', () => {
    const ten = parseTolerance('10%', 't');
    expect(judge('lower', 'us', 1000, 1100, ten).status).toBe('within');
    expect(judge('lower', 'us', 1000, 1101, ten).status).toBe('worse');
    expect(judge('higher', 'count', 1000, 899, ten).status).toBe('worse');
    expect(judge('higher', 'count', 1000, 1101, ten).status).toBe('better');
    expect(judge('neutral', 'us', 1000, 5000, ten).status).toBe('info');
    expect(judge('lower', 'count', 0, 0, ten)).toEqual({ change: 0, relativeChange: 0, status: 'same' });
    expect(judge('lower', 'count', 3, 5, parseTolerance('2', 't')).status).toBe('within');
    expect(judge('lower', 'count', 3, 6, parseTolerance('2', 't')).status).toBe('worse');
  });

  it('a recovery that never completes is worse than any number', () => {
    const base = load();
    base.outages = [outage(1_500_000)];
    const cand = load();
    cand.outages = [outage(null)];
    const c = compareRuns(base, cand, opts());
    expect(row(c, 'recovery.broker-failover.p99')).toMatchObject({ base: 1_500_000, candidate: null, status: 'worse' });
    expect(row(c, 'recovery.broker-failover.p50')).toMatchObject({ base: 400_000, candidate: 400_000, status: 'same' });
    expect(c.verdict).toBe('regressed');
  });

  it('refuses runs of different scenarios, saying why, unless allowed', () => {
    const cand = load();
    cand.scenario.name = 'nightly';
    cand.scenario.devices = 2000;
    const w = cand.scenario.waves[0];
    if (w?.type !== 'ramp') throw new Error('fixture wave is a ramp');
    w.devices = 2000;
    expect(scenarioDifferences(load(), cand)).toEqual([
      'scenario name differs: "quickstart" vs "nightly"',
      'device count differs: 1000 vs 2000',
      'waves differ: ramp-up: ramp 1000 over 10s at 0s vs ramp-up: ramp 2000 over 10s at 0s',
    ]);
    const err = herdError(() => compareRuns(load(), cand, opts()));
    expect(err.code).toBe('E_COMPARE_SCENARIO');
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain('a.json and b.json are runs of different scenarios');
    expect(err.message).toContain('--allow-different-scenarios');
    expect(err.details).toHaveLength(3);
    const allowed = compareRuns(load(), cand, opts({ allowDifferentScenarios: true }));
    expect(allowed.scenarioDifferences).toHaveLength(3);
  });

  it('rejects bad tolerances and unknown metric names', () => {
    expect(parseTolerance('12.5%', 'x')).toEqual({ kind: 'relative', fraction: 0.125, text: '12.5%' });
    expect(parseTolerance('5ms', 'x')).toEqual({ kind: 'absolute', unit: 'us', amount: 5000, text: '5ms' });
    expect(parseTolerance('0.5pp', 'x')).toEqual({ kind: 'absolute', unit: 'ratio', amount: 0.005, text: '0.5pp' });
    expect(herdError(() => parseTolerance('ten', '--max-regression')).message).toMatch(/^--max-regression: cannot read tolerance "ten"/);
    expect(herdError(() => parseToleranceOverrides(['connect.total.p99'])).code).toBe('E_FLAG');
    const unknown = herdError(() => compareRuns(load(), load(), opts({ overrides: parseToleranceOverrides(['connect.totl.p99=5%']) })));
    expect(unknown.message).toBe('--tolerance: unknown metric "connect.totl.p99"');
    const unit = herdError(() => compareRuns(load(), load(), opts({ overrides: parseToleranceOverrides(['errors.rate=5ms']) })));
    expect(unit.message).toBe('--tolerance errors.rate: "5ms" does not fit this metric; use a percentage or percentage points like 0.5pp');
  });

  it('renders text, Markdown and JSON with the verdict', () => {
    const cand = load();
    (cand.latency['connect.total'] as { p99Us: number }).p99Us = 20000;
    const c = compareRuns(load(), cand, opts());
    const text = renderCompareText(c);
    expect(text).toMatch(/connect\.total\.p99\s+16\.1ms\s+20ms\s+\+3\.92ms\s+\+24\.4%\s+10%\s+WORSE/);
    expect(text).toContain('Verdict: REGRESSED: 1 metric worse beyond tolerance (connect.total.p99)');
    const md = renderCompareMarkdown(c);
    expect(md).toContain('| 🔴 | **`connect.total.p99`** | **16.1ms** | **20ms** | **+3.92ms** | **+24.4%** | **10%** |');
    const json = JSON.parse(renderComparison(c, 'json')) as Comparison;
    expect(json.verdict).toBe('regressed');
    expect(json.rows.find((r) => r.key === 'connect.total.p99')?.change).toBe(3921);
  });
});
