import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { readResults } from '../../src/results/read.js';
import { createHistogram, recordUs, summarize } from '../../src/metrics/histogram.js';
import { evaluateThresholds } from '../../src/thresholds/evaluate.js';
import { parseThresholds } from '../../src/scenario/threshold-parse.js';
import { thresholdsTheHarnessCouldFlip } from '../../src/thresholds/harness-effect.js';
import type { LatencySummary, Results } from '../../src/results/types.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/results-quickstart.json', import.meta.url));

/** 100 samples: 99 at `bulkUs` and one at `topUs`, so p(99) is `bulkUs` (read back as the top of its HDR bucket, 3 significant digits) and max is `topUs`. */
function series(bulkUs: number, topUs = bulkUs): LatencySummary {
  const h = createHistogram();
  for (let i = 0; i < 99; i++) recordUs(h, bulkUs);
  recordUs(h, topUs);
  return summarize(h);
}

function run(total: LatencySummary, service: LatencySummary, patch: Partial<Results> = {}): Results {
  const r = readResults(FIXTURE);
  return { ...r, latency: { ...r.latency, 'connect.total': total, 'connect.service': service }, ...patch };
}

function flips(spec: Record<string, string[]>, r: Results, loopDelayUs: number, scheduleLagUs = 0): string[] {
  const { thresholds, problems } = parseThresholds(spec);
  expect(problems).toEqual([]);
  const evaluated = evaluateThresholds(thresholds, r);
  return thresholdsTheHarnessCouldFlip(thresholds, evaluated, r, { loopDelayUs, scheduleLagUs }).map(
    (f) => `${f.metric} ${f.expression}: ${f.observedText}; ${f.withoutHarnessText}`,
  );
}

describe('thresholds the harness could flip', () => {
  it('re-reads connect.total from connect.service, less the event-loop delay', () => {
    const r = run(series(1_200_000), series(1_100_000));
    expect(flips({ 'connect.total': ['p(99) < 1s'] }, r, 0)).toEqual([]);
    expect(flips({ 'connect.total': ['p(99) < 1s'] }, r, 150_000)).toEqual([
      'connect.total p(99) < 1s: 1.2s; would be 951ms without the schedule lag and 150ms of event-loop delay',
    ]);
  });

  it('flips a threshold the schedule lag alone decided', () => {
    const r = run(series(1_200_000), series(900_000));
    expect(flips({ 'connect.total': ['p(99) < 1s'] }, r, 0)).toEqual([
      'connect.total p(99) < 1s: 1.2s; would be 900ms without the schedule lag and 0µs of event-loop delay',
    ]);
  });

  it('never flips a passing threshold (the harness only adds time)', () => {
    const r = run(series(500_000), series(100_000));
    expect(flips({ 'connect.total': ['p(99) < 1s'] }, r, 400_000)).toEqual([]);
  });

  it('takes only the event-loop delay off other latencies', () => {
    const r = run(series(1_200_000), series(1_050_000));
    expect(flips({ 'connect.service': ['p(99) < 1s'] }, r, 40_000)).toEqual([]);
    expect(flips({ 'connect.service': ['p(99) < 1s'] }, r, 60_000)).toEqual([
      'connect.service p(99) < 1s: 1.05s; would be 991ms without 60ms of event-loop delay',
    ]);
  });

  it('counts timeouts as the harness’s when successes came within the event-loop delay of the connect timeout', () => {
    const base = readResults(FIXTURE);
    const attempts = { ...base.attempts, succeeded: base.attempts.succeeded - 5, timedOut: 5 };
    // quickstart's connect timeout is 10 s.
    const close = run(series(9_000_000, 9_900_000), series(9_000_000, 9_900_000), { attempts });
    expect(flips({ 'attempts.timedOut': ['== 0'] }, close, 50_000)).toEqual([]);
    expect(flips({ 'attempts.timedOut': ['== 0'] }, close, 100_000)).toEqual([
      'attempts.timedOut == 0: 5; successful connects took up to 9.9s, within the 100ms event-loop delay of the 10s connect timeout, so some of the 5 timeouts may be the harness’s',
    ]);
    const far = run(series(20_000, 50_000), series(20_000, 50_000), { attempts });
    expect(flips({ 'attempts.timedOut': ['== 0'], 'errors.rate': ['< 0.1%'] }, far, 400_000)).toEqual([]);
  });

  it('takes delay and lag off recovery times', () => {
    const r0 = readResults(FIXTURE);
    const outage = {
      name: 'blip',
      side: 'device' as const,
      atUs: 5e6,
      offlineUs: 1e6,
      mode: 'reset',
      dropped: 10,
      recovered: 10,
      recovery: { p50Us: 1e6, p90Us: 2e6, p99Us: 10_100_000, p100Us: 10_100_000 },
      reconnectAttempts: { p50: 1, p99: 1, max: 1 },
      recoveryHistogram: '',
      attemptsHistogram: '',
      peakAttemptsPerS: 10,
      peakHandshaking: 10,
      peakSucceededPerSAfterEnd: 10,
    };
    const r = { ...r0, outages: [outage] };
    expect(flips({ 'recovery.p99': ['< 10s'] }, r, 50_000, 40_000)).toEqual([]);
    expect(flips({ 'recovery.p99': ['< 10s'] }, r, 60_000, 50_000)).toEqual([
      'recovery.p99 < 10s: 10.1s; would be 9.99s without 60ms of event-loop delay and 50ms of schedule lag',
    ]);
  });
});
