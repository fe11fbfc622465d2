import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareBreakpoints } from '../../src/compare/breakpoint.js';
import type { BreakpointReport } from '../../src/results/breakpoint-types.js';
import { herdInProcess } from '../helpers/in-process.js';

/** A breakpoint.json as `herd breakpoint` writes it, reduced to what compare reads. */
function report(
  outcome: Partial<BreakpointReport['outcome']>,
  extra: Partial<BreakpointReport> = {},
): BreakpointReport {
  return {
    schemaVersion: '1.0.0',
    tool: { name: 'herd', version: '0.1.0' },
    mode: 'connect-rate',
    status: 'completed',
    abortReason: null,
    scenario: 'breakpoint',
    target: 'embedded',
    startedAt: '2026-12-05T10:00:00.000Z',
    endedAt: '2026-12-05T10:05:00.000Z',
    settings: {
      startRate: 50,
      factor: 2,
      resolution: 0.1,
      minRate: 10,
      maxRate: 3200,
      maxLevels: 12,
      settleS: 2,
      measureS: 5,
      drainS: 2,
      arrivalRate: null,
      holdS: null,
      stopWhen: [],
    },
    levels: [],
    outcome: {
      end: 'found',
      rate: 400,
      failedAt: 440,
      harnessAt: null,
      tippedBy: 'latency',
      brokenBy: ['connect.total p(99) < 500ms'],
      headline: '',
      advice: [],
      ...outcome,
    },
    thresholds: [],
    verdict: 'passed',
    exitCode: 0,
    ...extra,
  };
}

describe('compareBreakpoints: moved only when the brackets do not overlap', () => {
  const paths: [string, string] = ['a/breakpoint.json', 'b/breakpoint.json'];

  it('candidate fails at or below the base sustained rate: moved down', () => {
    const c = compareBreakpoints(report({}), report({ rate: 360, failedAt: 400, tippedBy: 'timeouts' }), paths);
    expect(c.verdict).toBe('moved-down');
    expect(c.base.bracket).toEqual([400, 440]);
    expect(c.candidate.bracket).toEqual([360, 400]);
    expect(c.candidate.tippedBy).toBe('timeouts');
  });

  it('overlapping brackets are within the resolution, though the rates differ', () => {
    expect(compareBreakpoints(report({}), report({ rate: 420, failedAt: 460 }), paths).verdict).toBe(
      'within-resolution',
    );
    expect(compareBreakpoints(report({}), report({ rate: 380, failedAt: 420 }), paths).verdict).toBe(
      'within-resolution',
    );
  });

  it('held-max is unbounded above; moved up when the base failed below it', () => {
    const c = compareBreakpoints(
      report({}),
      report({ end: 'held-max', rate: 3200, failedAt: null, tippedBy: null, brokenBy: [] }),
      paths,
    );
    expect(c.candidate.bracket).toEqual([3200, null]);
    expect(c.verdict).toBe('moved-up');
  });

  it('a harness-limited search is not comparable; different scenarios are bad input', () => {
    expect(compareBreakpoints(report({}), report({ end: 'harness', harnessAt: 800 }), paths).verdict).toBe(
      'not-comparable',
    );
    const aborted = compareBreakpoints(
      report({}),
      report({}, { status: 'aborted', abortReason: 'interrupted' }),
      paths,
    );
    expect(aborted.verdict).toBe('not-comparable');
    expect(aborted.reason).toBe('b/breakpoint.json: the search was aborted (interrupted) before it finished');
    expect(() => compareBreakpoints(report({}), report({}, { scenario: 'other' }), paths)).toThrow(
      /different scenarios or modes/,
    );
  });
});

describe('herd compare of two breakpoint.json files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herd-bp-compare-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, r: BreakpointReport): string => {
    const p = join(dir, name);
    writeFileSync(p, JSON.stringify(r));
    return p;
  };

  it('regressed: exit 1, both brackets and what tipped each', async () => {
    const a = write('a.json', report({}));
    const b = write(
      'b.json',
      report({ rate: 200, failedAt: 220, tippedBy: 'listen-queue', brokenBy: ['attempts.timedOut == 0'] }),
    );
    const r = await herdInProcess(['compare', a, b]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `base       ${a}: sustained 400 connects/s, breakpoint in [400, 440) — tipped by latency (connect.total p(99) < 500ms)`,
    );
    expect(r.stdout).toContain(
      `candidate  ${b}: sustained 200 connects/s, breakpoint in [200, 220) — tipped by listen-queue (attempts.timedOut == 0)`,
    );
    expect(r.stdout).toContain(
      "REGRESSED: the candidate breaks at a lower rate; the two searches' brackets do not overlap",
    );
  });

  it('within resolution: exit 0', async () => {
    const r = await herdInProcess([
      'compare',
      write('c.json', report({})),
      write('d.json', report({ rate: 420, failedAt: 460 })),
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("no change beyond the searches' resolution");
  });
});
