import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkResults } from '../../src/results/read.js';
import type { OutageResult, Results } from '../../src/results/types.js';
import { createHistogram, encodeHistogram, recordUs, summarize } from '../../src/metrics/histogram.js';
import { compareRuns, type CompareOptions, type CompareRow, type Comparison } from '../../src/compare/compare.js';
import { configurationDiff, scenarioDifferences } from '../../src/compare/config.js';
import { parseConfidence, parseTolerance, parseToleranceOverrides } from '../../src/compare/tolerance.js';
import { renderCompareMarkdown, renderCompareText, renderComparison } from '../../src/compare/render.js';
import { statusText } from '../../src/compare/words.js';
import { runCli } from '../../src/cli/main.js';
import { HerdError } from '../../src/errors.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/results-quickstart.json', import.meta.url));
const fixture = (): Results => checkResults(JSON.parse(readFileSync(FIXTURE, 'utf8')), FIXTURE);

/**
 * A run of 10 seconds whose attempts took these times (µs), second by second: connect.total,
 * connect.service and phase.mqttConnack all get them (with per-second histograms in the
 * timeline), schedule lag is a flat 100 µs, and nothing failed.
 */
function run(seconds: number[][], lagUs = 100): Results {
  const r = fixture();
  const all = createHistogram();
  r.timeline.buckets = seconds.map((vs, t) => {
    const h = createHistogram();
    for (const v of vs) {
      recordUs(h, v);
      recordUs(all, v);
    }
    const b = {
      ...(r.timeline.buckets[0] as Results['timeline']['buckets'][number]),
      t,
      attempts: vs.length,
      succeeded: vs.length,
      failed: 0,
      timedOut: 0,
      connectHistogram: encodeHistogram(h),
    };
    h.destroy();
    return b;
  });
  const s = summarize(all);
  const lag = createHistogram();
  for (let i = 0; i < s.count; i++) recordUs(lag, lagUs);
  const none = createHistogram();
  r.latency = {
    'connect.total': s,
    'connect.service': s,
    'phase.mqttConnack': s,
    'connect.scheduleLag': summarize(lag),
    'connect.failed': summarize(none),
  };
  none.destroy();
  all.destroy();
  lag.destroy();
  const n = s.count;
  r.attempts = {
    ...r.attempts,
    planned: n,
    started: n,
    succeeded: n,
    failed: 0,
    timedOut: 0,
    dropped: 0,
    inFlightAtEnd: 0,
  };
  r.scenario.devices = n;
  r.scenario.waves = [];
  r.errors = [];
  return r;
}

/** 100 attempts a second at 1000, 1010 … 1990 µs, plus a shift. */
const second = (shiftUs = 0): number[] => Array.from({ length: 100 }, (_, i) => 1000 + 10 * i + shiftUs);
const steady = (shiftUs = 0): number[][] => Array.from({ length: 10 }, () => second(shiftUs));

function opts(o: Partial<CompareOptions> = {}): CompareOptions {
  return {
    basePaths: ['a.json'],
    candidatePaths: ['b.json'],
    maxRegression: parseTolerance('10%', 'test'),
    overrides: new Map(),
    allowDifferentScenarios: false,
    confidence: 0.99,
    judgeMax: false,
    ...o,
  };
}

function row(c: Comparison, key: string): CompareRow {
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

describe('compare: latency percentiles', () => {
  it('a run against itself: nothing changed, passed', () => {
    const c = compareRuns([run(steady())], [run(steady())], opts());
    expect(c.verdict).toBe('passed');
    expect(row(c, 'connect.total.p50')).toMatchObject({ base: 1490, candidate: 1490, change: 0, status: 'same' });
    expect(row(c, 'errors.rate')).toMatchObject({ base: 0, candidate: 0, status: 'same' });
    expect(row(c, 'connect.failed.p99')).toMatchObject({ base: null, candidate: null, status: 'n/a' });
  });

  it('every attempt 2 ms slower clears all three bars', () => {
    const c = compareRuns([run(steady())], [run(steady(2000))], opts());
    const r = row(c, 'connect.total.p50');
    // 3000–3990 µs sit in 2 µs HDR buckets: 3490 reads as 3491.
    expect(r).toMatchObject({
      base: 1490,
      candidate: 3491,
      change: 2001,
      status: 'worse',
      floor: { amount: 250, why: 'p50 noise floor' },
    });
    // Every base sample is below every candidate sample: 0 of 1000 vs 1000 of 1000 above the pooled median.
    expect(r.test).toMatchObject({ name: 'quantile', designEffect: 1, df: Infinity });
    expect(r.test?.z).toBeCloseTo(1 / Math.sqrt(0.25 * 0.002), 8);
    expect(statusText(r)).toBe('WORSE: slower');
    expect(r.reason).toBe(
      'worse beyond the 10% tolerance, the p50 noise floor (250µs) and 99.0% significance (p < 0.0001)',
    );
    expect(c.regressions).toEqual([
      'connect.service.p50',
      'connect.service.p90',
      'connect.total.p50',
      'connect.total.p90',
      'phase.mqttConnack.p50',
      'phase.mqttConnack.p90',
    ]);
    // p99 of 1,000 rests on 10 samples, the max on one: shown, not judged.
    expect(row(c, 'connect.total.p99')).toMatchObject({
      status: 'info',
      reason: 'not judged: only 10 samples beyond p99 (needs 20 on each side)',
    });
    expect(row(c, 'connect.total.max').status).toBe('info');
    // --judge-max judges it: 2 ms is inside the 50 ms floor of a single sample.
    expect(
      row(compareRuns([run(steady())], [run(steady(2000))], opts({ judgeMax: true })), 'connect.total.max'),
    ).toMatchObject({
      status: 'within',
      reason: 'worse, but not beyond the max noise floor',
    });
    expect(compareRuns([run(steady())], [run(steady(60_000))], opts({ judgeMax: true })).regressions).toContain(
      'connect.total.max',
    );
    // Faster by as much is better, and never fails the verdict.
    const back = compareRuns([run(steady(2000))], [run(steady())], opts());
    expect(back.verdict).toBe('passed');
    expect(statusText(row(back, 'connect.total.p50'))).toBe('better: faster');
  });

  it('a change below the noise floor is noise, whatever the tolerance and the test say', () => {
    const c = compareRuns([run(steady())], [run(steady(200))], opts({ maxRegression: parseTolerance('1%', 't') }));
    expect(row(c, 'connect.total.p50')).toMatchObject({
      change: 200,
      status: 'within',
      reason: 'worse, but not beyond the p50 noise floor',
    });
    const tol = compareRuns([run(steady())], [run(steady(100))], opts());
    expect(row(tol, 'connect.total.p50')).toMatchObject({
      change: 100,
      status: 'within',
      reason: 'worse by 6.7%, within the 10% tolerance',
    });
    // 300 µs (20.1%) clears the tolerance and the 250 µs floor.
    expect(row(compareRuns([run(steady())], [run(steady(300))], opts()), 'connect.total.p50').status).toBe('worse');
  });

  it('slow seconds that come in a block are tested as blocks: significant only if the seconds agree', () => {
    // Half the candidate's seconds are 5 ms slower, the other half identical to the base.
    const cand = [...Array.from({ length: 5 }, () => second(5000)), ...Array.from({ length: 5 }, () => second())];
    const c = compareRuns([run(steady())], [run(cand)], opts());
    const r = row(c, 'connect.total.p50');
    expect(r).toMatchObject({ base: 1490, candidate: 1990, change: 500 });
    // Pooled median 1660: base 330 of 1000 above, candidate 665; seconds of 100 with 33 or 100 above.
    const pooled = 995 / 2000;
    expect(r.test?.z).toBeCloseTo(0.335 / Math.sqrt(pooled * (1 - pooled) * 0.002), 8);
    const cluster = ((10 / 9) * 5 * (100 - 66.5) ** 2 * 2) / 1000 ** 2;
    expect(r.test?.designEffect).toBeCloseTo(cluster / ((0.33 * 0.67) / 1000 + (0.665 * 0.335) / 1000), 8);
    expect(r.test?.df).toBeCloseTo(9, 8);
    expect(r.test?.t).toBeCloseTo(2.826, 2);
    expect(r.status).toBe('within');
    expect(r.reason).toMatch(/^worse, but not significant at 99\.0% \(p = 0\.02\d\)$/);
    // At 95% the same evidence is enough.
    expect(row(compareRuns([run(steady())], [run(cand)], opts({ confidence: 0.95 })), 'connect.total.p50').status).toBe(
      'worse',
    );
  });

  it('several runs per side: pooled histograms, and their spread raises the floor', () => {
    const b = [run(steady()), run(steady(400))];
    const c = compareRuns(b, [run(steady(900)), run(steady(1300))], opts());
    const r = row(c, 'connect.total.p50');
    expect(r.baseRuns).toEqual([1490, 1890]);
    expect(r.candidateRuns).toEqual([2391, 2791]);
    // Pooled: 1000–1990 and 1400–2390 → the 1000th of 2000 is 1690.
    expect(r.base).toBe(1690);
    expect(r.floor).toEqual({ amount: 400, why: 'spread of the 2 base runs' });
    expect(r.status).toBe('worse');
    expect(c.base).toHaveLength(2);
  });
});

describe('compare: shares, shedding and recovery', () => {
  function withErrors(
    r: Results,
    perSecond: number[],
    code = 'ECONNRESET',
    origin: 'network' | 'protocol' = 'network',
  ): Results {
    const failed = perSecond.reduce((a, b) => a + b, 0);
    r.timeline.buckets = r.timeline.buckets.map((b, i) => ({
      ...b,
      failed: perSecond[i] ?? 0,
      attempts: b.attempts + (perSecond[i] ?? 0),
    }));
    r.attempts = { ...r.attempts, started: r.attempts.started + failed, failed };
    r.errors = [{ origin, phase: origin === 'protocol' ? 'mqttConnack' : 'tcpConnect', code, count: failed }];
    return r;
  }

  it('2% of attempts refused, spread evenly: a regression with its z-test', () => {
    const c = compareRuns([run(steady())], [withErrors(run(steady()), Array(10).fill(2) as number[])], opts());
    const r = row(c, 'errors.rate');
    expect(r).toMatchObject({
      base: 0,
      candidate: 20 / 1020,
      status: 'worse',
      definition: '(failed + timed out − shed) / started attempts: failures other than deliberate shedding',
    });
    expect(r.test).toMatchObject({ name: 'two-proportion', designEffect: 1 });
    expect(statusText(r)).toBe('WORSE: more errors');
    // A success share's tolerance applies to its complement: failures from 0% are beyond any relative tolerance.
    expect(row(c, 'connect.successRate')).toMatchObject({ base: 1, candidate: 1000 / 1020, status: 'worse' });
    expect(statusText(row(c, 'connect.successRate'))).toBe('WORSE: lower success share');
    expect(row(c, 'attempts.failed')).toMatchObject({ base: 0, candidate: 20, status: 'info' });
  });

  it('the same 20 failures in one second are one event, not twenty', () => {
    const c = compareRuns([run(steady())], [withErrors(run(steady()), [20, 0, 0, 0, 0, 0, 0, 0, 0, 0])], opts());
    const r = row(c, 'errors.rate');
    expect(r.status).toBe('within');
    expect(r.test?.designEffect).toBeGreaterThan(15);
    expect(r.reason).toMatch(/^worse, but not significant at 99\.0%/);
  });

  it('deliberate shedding is its own category: never errors, never better or worse', () => {
    const shedding = withErrors(run(steady()), Array(10).fill(30) as number[], 'CONNACK_9F', 'protocol');
    const c = compareRuns([run(steady())], [shedding], opts());
    expect(row(c, 'errors.rate')).toMatchObject({ base: 0, candidate: 0, status: 'same' });
    expect(row(c, 'errors.protocol')).toMatchObject({ candidate: 0, status: 'same' });
    expect(row(c, 'shed.rate')).toMatchObject({ base: 0, candidate: 300 / 1300, status: 'info' });
    expect(statusText(row(c, 'shed.rate'))).toBe('shown: shed more');
    // Fewer connected per attempt is still a worse success share, stated with its denominator.
    expect(row(c, 'connect.successRate')).toMatchObject({
      candidate: 1000 / 1300,
      status: 'worse',
      definition: 'succeeded / started attempts',
    });
    // The other way round: shedding stopping is not "fewer errors".
    const back = compareRuns([shedding], [run(steady())], opts());
    expect(statusText(row(back, 'shed.rate'))).toBe('shown: shed less');
    expect(back.rows.filter((x) => x.status === 'better').map((x) => x.key)).toEqual(['connect.successRate']);
  });

  it('CONNACK 3 is shedding from the embedded target (its admission control, MQTT 3.1.1) and breakage from any other', () => {
    const embedded = withErrors(run(steady()), Array(10).fill(30) as number[], 'CONNACK_03', 'protocol');
    expect(row(compareRuns([run(steady())], [embedded], opts()), 'shed.rate')).toMatchObject({ candidate: 300 / 1300 });
    const outside = withErrors(run(steady()), Array(10).fill(30) as number[], 'CONNACK_03', 'protocol');
    outside.run.embeddedTarget = false;
    const c = compareRuns([run(steady())], [outside], opts());
    expect(row(c, 'shed.rate')).toMatchObject({ candidate: 0 });
    expect(row(c, 'errors.protocol')).toMatchObject({ candidate: 300 / 1300, status: 'worse' });
  });

  it('a recovery that never completes is worse than any time', () => {
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
    const base = run(steady());
    base.outages = [outage(1_500_000)];
    const cand = run(steady());
    cand.outages = [outage(null)];
    const c = compareRuns([base], [cand], opts());
    expect(row(c, 'recovery.broker-failover.p99')).toMatchObject({
      base: 1_500_000,
      candidate: null,
      candidateNever: true,
      status: 'worse',
    });
    expect(statusText(row(c, 'recovery.broker-failover.p99'))).toBe('WORSE: never recovered');
    expect(row(c, 'recovery.broker-failover.p50')).toMatchObject({ status: 'same' });
    expect(c.verdict).toBe('regressed');
  });

  it('an observed outage (herd did not cause it) is compared like an injected one, by its name', () => {
    const observed = (p99Us: number): OutageResult => ({
      name: 'observed-1',
      side: 'observed',
      atUs: 40_120_000,
      offlineUs: 20_480_000,
      mode: 'observed',
      targetAcceptedAgain: true,
      dropped: 5000,
      recovered: 5000,
      recovery: { p50Us: 7_200_000, p90Us: 21_700_000, p99Us, p100Us: p99Us + 1_000_000 },
      reconnectAttempts: { p50: 3, p99: 6, max: 7 },
      recoveryHistogram: '',
      attemptsHistogram: '',
      peakAttemptsPerS: 900,
      peakHandshaking: 40,
      peakSucceededPerSAfterEnd: 700,
    });
    const base = run(steady());
    base.outages = [observed(27_400_000)];
    const cand = run(steady());
    cand.outages = [observed(54_800_000)];
    const c = compareRuns([base], [cand], opts());
    expect(row(c, 'recovery.observed-1.p99')).toMatchObject({
      base: 27_400_000,
      candidate: 54_800_000,
      unit: 'us',
      direction: 'lower',
    });
    expect(row(c, 'recovery.observed-1.p50')).toMatchObject({ status: 'same' });
  });
});

describe('compare: configuration and input', () => {
  it('names the profile difference first and ignores ports, run ids and timestamps', () => {
    const a = fixture();
    const b = fixture();
    b.scenario.embeddedTarget = { profile: 'fragile' };
    b.run.target = 'mqtt://127.0.0.1:40000';
    b.run.id = 'other';
    b.run.startedAt = '2027-01-01T00:00:00.000Z';
    b.run.workers = 1;
    const items = configurationDiff([a], [b], ['a'], ['b']).filter((i) => !i.same);
    expect(items).toEqual([
      { field: 'target', base: 'embedded, profile default', candidate: 'embedded, profile fragile', same: false },
      { field: 'target.handshakeCostMs', base: '0', candidate: '10', same: false },
      { field: 'target.maxConnections', base: 'none', candidate: '3000', same: false },
      { field: 'workers', base: '2', candidate: '1', same: false },
    ]);
    const text = renderCompareText(compareRuns([a], [b], opts()));
    expect(text.split('\n').slice(3, 5)).toEqual([
      'Configuration that differs (base → candidate)',
      '  ⚠ target: embedded, profile default → embedded, profile fragile',
    ]);
  });

  it('names a warm-up turned off and a different connect path, and reads older files as not recorded', () => {
    const a = fixture();
    const b = fixture();
    a.run.warmUp = true;
    a.run.engines = { default: 'native' };
    b.run.warmUp = false;
    b.run.engines = { default: 'js' };
    expect(configurationDiff([a], [b], ['a'], ['b']).filter((i) => !i.same)).toEqual([
      { field: 'connect path', base: 'default native', candidate: 'default js', same: false },
      { field: 'warm-up', base: 'on', candidate: 'off (--no-warm-up)', same: false },
    ]);
    const old = fixture();
    expect(configurationDiff([old], [old], ['a'], ['b']).find((i) => i.field === 'warm-up')).toEqual({
      field: 'warm-up',
      base: 'not recorded',
      candidate: 'not recorded',
      same: true,
    });
  });

  it('device.dnsTtl tells two runs apart only when a target is given by host name', () => {
    // A file before 1.7.0 reads dnsTtl as 0; a run of this herd has 60 s: no difference to an IP target.
    const old = fixture();
    const now = fixture();
    expect(old.scenario.device.dnsTtlUs).toBe(0);
    now.scenario.device.dnsTtlUs = 60_000_000;
    expect(old.run.target).toMatch(/^mqtt:\/\/127\.0\.0\.1:/);
    expect(configurationDiff([old], [now], ['a'], ['b']).filter((i) => !i.same)).toEqual([]);
    // To a name the lookups differ, and so may every connect time: the scenario differs in `device`.
    const byName = (r: Results): Results => ({ ...r, run: { ...r.run, target: 'mqtt://broker.invalid:1883' } });
    const diff = configurationDiff([byName(old)], [byName(now)], ['a'], ['b']).filter((i) => !i.same);
    expect(diff.map((i) => i.field)).toEqual(['scenario', 'scenario fields that differ']);
    expect(diff[1]?.base).toBe('device');
  });

  it('says when the machine was much busier for one side, by herd’s own schedule lag', () => {
    const c = compareRuns([run(steady())], [run(steady(), 900)], opts());
    expect(c.notes[0]).toBe(
      'the machine was busier during the candidate run: herd’s own schedule lag p50 100µs → 900µs (×9.0); the embedded target shares this machine, so its latency changes may be the machine’s, not the target’s — compare several runs per side',
    );
    // The harness lag is also a floor: 900 µs at p50 covers a 700 µs change (2190 reads as 2191).
    const floor = compareRuns([run(steady(), 900)], [run(steady(700), 900)], opts());
    expect(row(floor, 'connect.total.p50')).toMatchObject({
      change: 701,
      status: 'within',
      floor: { amount: 900, why: 'harness schedule lag p50' },
    });
    expect(compareRuns([run(steady())], [run(steady(), 400)], opts()).notes).toEqual([]);
  });

  it('refuses runs of different scenarios, saying why, unless allowed', () => {
    const cand = fixture();
    cand.scenario.name = 'nightly';
    cand.scenario.devices = 2000;
    const w = cand.scenario.waves[0];
    if (w?.type !== 'ramp') throw new Error('fixture wave is a ramp');
    w.devices = 2000;
    expect(scenarioDifferences(fixture(), cand)).toEqual([
      'scenario name differs: "quickstart" vs "nightly"',
      'device count differs: 1000 vs 2000',
      'waves differ: ramp-up: ramp 1000 over 10s at 0s vs ramp-up: ramp 2000 over 10s at 0s',
    ]);
    const err = herdError(() => compareRuns([fixture()], [cand], opts()));
    expect(err.code).toBe('E_COMPARE_SCENARIO');
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain('a.json and b.json are runs of different scenarios');
    expect(compareRuns([fixture()], [cand], opts({ allowDifferentScenarios: true })).scenarioDifferences).toHaveLength(
      3,
    );
  });

  it('rejects bad tolerances, confidences and unknown metric names', () => {
    expect(parseTolerance('12.5%', 'x')).toEqual({ kind: 'relative', fraction: 0.125, text: '12.5%' });
    expect(parseTolerance('0.5pp', 'x')).toEqual({ kind: 'absolute', unit: 'ratio', amount: 0.005, text: '0.5pp' });
    expect(parseConfidence('99%', 'x')).toBe(0.99);
    expect(parseConfidence('0.995', 'x')).toBe(0.995);
    expect(herdError(() => parseConfidence('100%', '--confidence')).message).toBe(
      '--confidence: expected a confidence from 50% to 99.99% like 99% (or 0.99), got "100%"',
    );
    expect(
      herdError(() =>
        compareRuns([fixture()], [fixture()], opts({ overrides: parseToleranceOverrides(['connect.totl.p99=5%']) })),
      ).message,
    ).toBe('--tolerance: unknown metric "connect.totl.p99"');
    expect(
      herdError(() =>
        compareRuns([fixture()], [fixture()], opts({ overrides: parseToleranceOverrides(['errors.rate=5ms']) })),
      ).message,
    ).toBe('--tolerance errors.rate: "5ms" does not fit this metric; use a percentage or percentage points like 0.5pp');
  });

  it('renders the verdict first, then what moved, in text, Markdown and JSON', () => {
    const c = compareRuns([run(steady())], [run(steady(2000))], opts());
    const lines = renderCompareText(c).split('\n');
    expect(lines[1]).toBe(
      'Verdict: REGRESSED: 6 metrics worse beyond noise (connect.service.p50, connect.service.p90, connect.total.p50, connect.total.p90, phase.mqttConnack.p50, phase.mqttConnack.p90) — tolerance 10%, noise floors, 99% significance',
    );
    expect(lines[6]).toBe('Moved beyond noise (6)');
    expect(lines.join('\n')).toMatch(
      /connect\.total\.p50\s+1\.49ms\s+3\.49ms\s+\+2ms\s+\+134\.3%\s+250µs\s+<0\.0001\s+WORSE: slower/,
    );
    const md = renderCompareMarkdown(c);
    expect(md.split('\n')[0]).toBe('## herd compare · quickstart — ❌ REGRESSED');
    expect(md).toContain(
      '| `connect.total.p50` | 1.49ms | 3.49ms | +2ms | +134.3% | 250µs | \\<0.0001 | **🔴 WORSE: slower** |',
    );
    const json = JSON.parse(renderComparison(c, 'json')) as Comparison;
    expect(json.verdict).toBe('regressed');
    expect(json.rows.find((x) => x.key === 'connect.total.p50')?.test?.df).toBeNull();
  });
});

describe('herd compare (in-process CLI)', () => {
  async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const code = await runCli({
      argv,
      env: {},
      cwd: process.cwd(),
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      wallClockMs: () => 0,
      onSignal: () => () => undefined,
    });
    return { code, stdout, stderr };
  }

  it('several base runs, then --candidate and several candidate runs; the two-file form still works', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herd-compare-unit-'));
    try {
      const file = (name: string, r: Results): string => {
        const p = join(dir, name);
        writeFileSync(p, JSON.stringify(r));
        return p;
      };
      const b1 = file('b1.json', run(steady()));
      const b2 = file('b2.json', run(steady(100)));
      const c1 = file('c1.json', run(steady(2000)));
      const c2 = file('c2.json', run(steady(2100)));
      const multi = await cli(['compare', b1, b2, '--candidate', c1, c2, '--format', 'json']);
      expect(multi.code, multi.stderr).toBe(1);
      const c = JSON.parse(multi.stdout) as Comparison;
      expect(c.base.map((r) => r.path)).toEqual([b1, b2]);
      expect(c.candidate.map((r) => r.path)).toEqual([c1, c2]);
      expect(row(c, 'connect.total.p50').baseRuns).toEqual([1490, 1590]);
      const same = await cli(['compare', b1, b2]);
      expect(same.code, same.stderr).toBe(0);
      expect(same.stdout).toContain('Verdict: PASSED: no metric worse beyond noise');
      const three = await cli(['compare', b1, b2, c1]);
      expect(three.code).toBe(2);
      expect(three.stderr).toContain(
        'error E_FLAG: herd compare: expected two results files (base, candidate) or several base files followed by --candidate and the candidate files; got 3 files without --candidate',
      );
      const future = JSON.parse(readFileSync(b1, 'utf8')) as { schemaVersion: string };
      future.schemaVersion = '2.0.0';
      const f = join(dir, 'future.json');
      writeFileSync(f, JSON.stringify(future));
      const v = await cli(['compare', b1, f]);
      expect(v.code).toBe(2);
      expect(v.stderr).toContain('E_RESULTS_VERSION');
      const html = await cli(['compare', b1, c1, '--format', 'html', '-o', join(dir, 'c.html')]);
      expect(html.code, html.stderr).toBe(1);
      expect(readFileSync(join(dir, 'c.html'), 'utf8')).toContain(
        '<span class="badge regressed" id="verdict">REGRESSED</span>',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
