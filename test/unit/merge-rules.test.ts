/**
 * The merge rules cover every field (a field added without one fails here as well as in the
 * compiler), a timeline of a shard that finished early carries its gauges, and the one exit
 * decision: a merged run whose worker died exits 3, however another shard ended.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HerdError } from '../../src/errors.js';
import { checkResults } from '../../src/results/read.js';
import type { Results } from '../../src/results/types.js';
import { decideExit, type ExitFacts } from '../../src/run/decide-exit.js';
import { mergeResults } from '../../src/run/merge.js';
import { BUCKET_RULES, mergeOutcomes, OUTCOME_RULES } from '../../src/run/outcome-merge.js';
import { outcomeOfResults } from '../../src/run/outcome-of-results.js';
import type { OutcomeBucket } from '../../src/run/outcome.js';
import { ROOT } from '../helpers/cli.js';

const FIXTURE = checkResults(
  JSON.parse(readFileSync(join(ROOT, 'fixtures', 'results-quickstart.json'), 'utf8')),
  'results-quickstart.json',
);

function shardOf(r: Results, index: number, count: number, edit: (r: Results) => void = () => {}): Results {
  const copy = structuredClone(r);
  copy.run.id = `shard-${index}`;
  copy.run.shard = { index, count };
  edit(copy);
  return copy;
}

describe('merge rules', () => {
  it('every field of an outcome and of a timeline second has a rule, and nothing else does', () => {
    const outcome = outcomeOfResults(FIXTURE);
    expect(Object.keys(OUTCOME_RULES).sort()).toEqual(Object.keys(outcome).sort());
    expect(Object.keys(BUCKET_RULES).sort()).toEqual(Object.keys(outcome.timeline[0] as OutcomeBucket).sort());
  });

  it('an outcome field without a rule is refused, naming it', () => {
    const outcome = outcomeOfResults(FIXTURE);
    const extra = { ...outcome, newCounter: 3 } as unknown as typeof outcome;
    expect(() => mergeOutcomes([outcome, extra])).toThrow(HerdError);
    expect(() => mergeOutcomes([outcome, extra])).toThrow('no merge rule for outcome.newCounter');
    const bucket = {
      ...outcome,
      timeline: [{ ...(outcome.timeline[0] as OutcomeBucket), newGauge: 1 }],
    } as unknown as typeof outcome;
    expect(() => mergeOutcomes([outcome, bucket])).toThrow('no merge rule for timeline bucket field newGauge');
  });

  it('a shard whose timeline ended keeps its last gauges in later seconds; its counters stop', () => {
    const bucket = (t: number, connected: number, attempts: number, rss: number | null): OutcomeBucket => ({
      t,
      attempts,
      succeeded: attempts,
      failed: 0,
      timedOut: 0,
      dropped: 0,
      disconnects: 0,
      connected,
      handshaking: 1,
      errorsByOrigin: { local: 0, network: 0, tls: 0, protocol: 0, timeout: 0 },
      loopDelayP99Us: 5,
      reconnects: 0,
      offlineAttempts: 0,
      peakHandshaking: 2,
      connectHistogram: null,
      harnessRssBytes: rss,
      messagesSent: 0,
      messagesDelivered: 0,
    });
    const base = outcomeOfResults(FIXTURE);
    const a = { ...base, timeline: [bucket(0, 10, 4, 100), bucket(1, 7, 3, 120)] };
    const b = { ...base, timeline: [bucket(0, 5, 2, null), bucket(1, 6, 1, 50), bucket(2, 8, 6, 60)] };
    const m = mergeOutcomes([a, b]).timeline;
    expect(
      m.map((x) => [
        x.t,
        x.attempts,
        x.connected,
        x.handshaking,
        x.peakHandshaking,
        x.harnessRssBytes,
        x.loopDelayP99Us,
      ]),
    ).toEqual([
      [0, 6, 15, 2, 4, 100, 5],
      [1, 4, 13, 2, 4, 170, 5],
      // Second 2: shard a has ended — 7 connected and 120 bytes carried, no attempts, peaks or loop delay of its own.
      [2, 6, 15, 2, 2, 180, 5],
    ]);
  });
});

describe('decideExit', () => {
  const ok: ExitFacts = {
    aborted: null,
    balanced: true,
    workerFailed: false,
    harnessDecided: false,
    thresholdsPassed: true,
  };
  it('orders abort, trust, thresholds', () => {
    expect(decideExit(ok)).toEqual({ exitCode: 0, verdict: 'passed' });
    expect(decideExit({ ...ok, thresholdsPassed: false })).toEqual({ exitCode: 1, verdict: 'failed' });
    expect(decideExit({ ...ok, thresholdsPassed: false, balanced: false }).exitCode).toBe(3);
    expect(decideExit({ ...ok, workerFailed: true }).exitCode).toBe(3);
    expect(decideExit({ ...ok, harnessDecided: true }).exitCode).toBe(3);
    expect(decideExit({ ...ok, aborted: 'interrupted', workerFailed: true }).exitCode).toBe(130);
    expect(decideExit({ ...ok, aborted: 'worker-failed' }).exitCode).toBe(3);
  });
});

describe('herd merge: how shards ended', () => {
  const killed = (r: Results): void => {
    r.run.status = 'aborted';
    r.run.abortedAt = r.run.endedAt;
    r.run.abortReason = 'worker 1 exited unexpectedly (SIGKILL)';
    r.run.abortKind = 'worker-failed';
    r.run.exitCode = 3;
  };
  const interrupted = (r: Results): void => {
    r.run.status = 'aborted';
    r.run.abortedAt = r.run.endedAt;
    r.run.abortReason = 'SIGINT';
    r.run.abortKind = 'interrupted';
    r.run.exitCode = 130;
  };

  it('a shard whose worker died makes the merged run exit 3, also beside an interrupted shard', () => {
    const m = mergeResults(
      [
        { path: 'a', results: shardOf(FIXTURE, 1, 2, killed) },
        { path: 'b', results: shardOf(FIXTURE, 2, 2) },
      ],
      'm',
    );
    expect([m.run.status, m.run.abortKind, m.run.exitCode, m.run.verdict]).toEqual([
      'aborted',
      'worker-failed',
      3,
      'failed',
    ]);
    expect(m.run.abortReason).toBe('worker 1 exited unexpectedly (SIGKILL)');
    const both = mergeResults(
      [
        { path: 'a', results: shardOf(FIXTURE, 1, 2, interrupted) },
        { path: 'b', results: shardOf(FIXTURE, 2, 2, killed) },
      ],
      'm',
    );
    expect([both.run.abortKind, both.run.exitCode]).toEqual(['worker-failed', 3]);
    // Shard 2's worker 1 is worker 1001 of the merged run.
    expect(both.run.abortReason).toBe('SIGINT; worker 1001 exited unexpectedly (SIGKILL)');
    const onlyInterrupted = mergeResults(
      [
        { path: 'a', results: shardOf(FIXTURE, 1, 2, interrupted) },
        { path: 'b', results: shardOf(FIXTURE, 2, 2) },
      ],
      'm',
    );
    expect([onlyInterrupted.run.abortKind, onlyInterrupted.run.exitCode]).toEqual(['interrupted', 130]);
  });

  it('a shard file from before 1.3 (no abortKind) is read by its exit code', () => {
    const old = (r: Results): void => {
      killed(r);
      delete (r.run as Partial<Results['run']>).abortKind;
      r.schemaVersion = '1.2.0';
    };
    const shard = checkResults(JSON.parse(JSON.stringify(shardOf(FIXTURE, 1, 2, old))), 'old.json');
    expect(shard.run.abortKind).toBeNull();
    const m = mergeResults(
      [
        { path: 'old.json', results: shard },
        { path: 'b', results: shardOf(FIXTURE, 2, 2) },
      ],
      'm',
    );
    expect([m.run.abortKind, m.run.exitCode]).toEqual(['worker-failed', 3]);
  });
});
