/**
 * Reports lead with why (issue 25): in every format the verdict and the failed thresholds come
 * first, then the harness's note on itself; the run says which connect path ran; the advice to
 * give --allow-saturated is not printed when it was given.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { checkResults } from '../../src/results/read.js';
import type { Results } from '../../src/results/types.js';
import type { BreakpointReport } from '../../src/results/breakpoint-types.js';
import { renderSummary } from '../../src/report/summary.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { renderHtml } from '../../src/report/html.js';
import { renderJunit } from '../../src/report/junit.js';
import { renderBreakpointSummary } from '../../src/report/breakpoint-summary.js';
import { renderBreakpointHtml } from '../../src/report/breakpoint-html.js';
import { mergeResults } from '../../src/run/merge.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/results-quickstart.json', import.meta.url));
const load = (): Results => checkResults(JSON.parse(readFileSync(FIXTURE, 'utf8')), FIXTURE);

const ALLOW = '--allow-saturated exits by the thresholds alone (results.json records that it was given)';

/** The quickstart run with one failed threshold (of two) and a saturated harness that decided the verdict. */
function failing(allowSaturated = false): Results {
  const r = load();
  r.thresholds = [
    { metric: 'connect.total', expression: 'p(99) < 1s', passed: true, observed: 16079, observedText: '16.1ms' },
    { metric: 'errors.rate', expression: '< 1%', passed: false, observed: 4, observedText: '4.00%' },
  ];
  r.health.saturated = true;
  r.health.affectsVerdict = true;
  r.health.reasons = ['worker 1: 3s in a row past a limit'];
  r.health.effects = [];
  r.health.advice = ['run on a quieter machine or CI runner: other processes on these cores delay the harness', ALLOW];
  r.run.allowSaturated = allowSaturated;
  r.run.verdict = 'failed';
  r.run.exitCode = allowSaturated ? 1 : 3;
  r.run.engines = { default: 'js' };
  return r;
}

/** Index of each needle in text, in the order given (-1 when absent). */
const at = (text: string, ...needles: string[]): number[] => needles.map((n) => text.indexOf(n));

describe('reports lead with why', () => {
  it('terminal summary: verdict, failed threshold, harness note, then the details; engine in the header', () => {
    const lines = renderSummary(failing()).split('\n');
    expect(lines.slice(2, 10)).toEqual([
      '  engine js',
      '',
      'Verdict: FAILED (exit 3)',
      '  ✗ errors.rate: < 1%  observed 4.00%',
      '',
      '⚠ The harness was saturated and could have decided the verdict (exit 3):',
      '  - worker 1: 3s in a row past a limit',
      '  - to change: run on a quieter machine or CI runner: other processes on these cores delay the harness',
    ]);
    expect(lines[10]).toBe(`  - to change: ${ALLOW}`);
    expect(lines[12]).toBe('Attempts');
  });

  it('terminal summary: no --allow-saturated hint when it was given; engine per cohort when they differ', () => {
    const r = failing(true);
    r.run.engines = { fleet: 'native', legacy: 'js' };
    const text = renderSummary(r);
    expect(text).not.toContain('--allow-saturated exits');
    const lines = text.split('\n');
    expect(lines.slice(2, 5)).toEqual([
      '  engine native (cohort fleet) · js (cohort legacy)',
      '',
      'Verdict: FAILED (exit 1)',
    ]);
  });

  it('a results file without the engine (written before it was recorded) reads and renders without an engine line', () => {
    const raw = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { run: Record<string, unknown> };
    expect(raw.run.engines).toBeUndefined();
    const r = checkResults(raw, FIXTURE);
    expect(r.run.engines).toBeNull();
    expect(renderSummary(r).split('\n').slice(2, 4)).toEqual(['', 'Verdict: PASSED (exit 0)']);
  });

  it('herd merge: a cohort that ran natively on one shard and on js on another merged as mixed', () => {
    const shard = (index: number, engines: Results['run']['engines']): { path: string; results: Results } => {
      const r = load();
      r.run.shard = { index, count: 2 };
      r.run.engines = engines;
      return { path: `s${index}.json`, results: r };
    };
    const two = [shard(1, { a: 'native', b: 'js' }), shard(2, { a: 'js', b: 'js' })];
    expect(mergeResults(two, 'm').run.engines).toEqual({ a: 'mixed', b: 'js' });
    expect(mergeResults([shard(1, { a: 'native' }), shard(2, null)], 'm').run.engines).toBeNull();
  });

  it('Markdown: verdict, failed threshold, harness callout, then the run table; engine named', () => {
    const md = renderMarkdown(failing());
    const lines = md.split('\n');
    expect(lines.slice(0, 7)).toEqual([
      '## herd · quickstart — ❌ FAILED',
      '',
      '**Verdict: FAILED** (exit 3)',
      '',
      '- ✗ errors.rate: \\< 1%  observed 4.00%',
      '',
      '> [!CAUTION]',
    ]);
    const [callout, table, engine] = at(md, '> [!CAUTION]', '| run | target |', 'Connect path: engine js');
    expect(callout).toBeLessThan(table ?? -1);
    expect(table).toBeLessThan(engine ?? -1);
    expect(md).toContain(`> - to change: ${ALLOW.replace(/</g, '\\<')}`);
    expect(renderMarkdown(failing(true))).not.toContain('--allow-saturated exits');
  });

  it('HTML: verdict card with the failed threshold before the saturation banner and every other card', () => {
    const html = renderHtml(failing());
    const [sub, why, failed, banner, kpis] = at(
      html,
      ' · 15.1s · engine js</p></header>',
      '<section class="card" id="why"><h2>Verdict: FAILED (exit 3)</h2>',
      '<li class="mark-bad">✗ errors.rate: &lt; 1%  observed 4.00%</li></ul></section>',
      'id="saturation-banner"',
      'id="card-thresholds"',
    );
    expect(sub).toBeGreaterThan(0);
    expect(why).toBeGreaterThan(sub ?? 0);
    expect(failed).toBeGreaterThan(why ?? 0);
    expect(banner).toBeGreaterThan(failed ?? 0);
    expect(kpis).toBeGreaterThan(banner ?? 0);
    expect(html).toContain('<dt>connect path</dt><dd>js</dd>');
    expect(html).toContain('to change: --allow-saturated');
    expect(renderHtml(failing(true))).not.toContain('to change: --allow-saturated');
  });

  it('JUnit: verdict, failed thresholds, then the harness note lead the properties; engine recorded', () => {
    const xml = renderJunit(failing());
    const names = [...xml.matchAll(/<property name="([^"]+)"/g)].map((m) => m[1]);
    expect(names.slice(0, 7)).toEqual([
      'run.id',
      'run.verdict',
      'run.exitCode',
      'run.failedThresholds',
      'run.harness',
      'run.allowSaturated',
      'run.engine',
    ]);
    expect(xml).toContain('<property name="run.failedThresholds" value="✗ errors.rate: &lt; 1%  observed 4.00%"/>');
    expect(xml).toContain('<property name="run.engine" value="js"/>');
    const cases = [...xml.matchAll(/<testcase classname="[^"]+" name="([^"]+)"/g)].map((m) => m[1]);
    expect(cases).toEqual([
      'connect.total: p(99) &lt; 1s',
      'errors.rate: &lt; 1%',
      'every planned attempt is accounted for',
      'the harness did not decide the verdict',
      'the run completed',
    ]);
    expect(xml).toContain('to change: --allow-saturated');
    expect(renderJunit(failing(true))).not.toContain('to change: --allow-saturated');
  });
});

function breakpoint(): BreakpointReport {
  const level = (index: number, rate: number, verdict: 'passed' | 'failed'): BreakpointReport['levels'][number] => ({
    index,
    rate,
    phase: 'step-up',
    verdict,
    runId: `level-${index + 1}`,
    resultsPath: `level-${index + 1}/results.json`,
    window: { settleS: 2, endS: 7 },
    offeredPerS: rate,
    achievedPerS: verdict === 'passed' ? rate : rate / 2,
    ended: { succeeded: rate, failed: 0, timedOut: 0, shed: 0 },
    errorRate: 0,
    shedRate: 0,
    connectP50Us: 1000,
    connectP99Us: verdict === 'passed' ? 5000 : 3_000_000,
    tcpConnectP99Us: 500,
    stopConditions: [],
    brokenBy: verdict === 'passed' ? [] : ['connect.total p(99) < 2s'],
    tipping: verdict === 'passed' ? [] : [{ signal: 'latency', firstAtS: 3, detail: 'connect p99 rose to 3s' }],
    harness: { limited: false, flagged: false, reasons: [] },
  });
  return {
    schemaVersion: '1.0.0',
    tool: { name: 'herd', version: '0.1.0' },
    mode: 'connect-rate',
    scenario: 'bp',
    target: 'mqtt://127.0.0.1:1883',
    startedAt: '2026-12-05T11:00:00.000Z',
    endedAt: '2026-12-05T11:01:00.000Z',
    settings: {
      startRate: 100,
      factor: 2,
      resolution: 0.1,
      minRate: 10,
      maxRate: 10000,
      maxLevels: 10,
      settleS: 2,
      measureS: 5,
      drainS: 1,
      arrivalRate: null,
      holdS: null,
      stopWhen: [{ metric: 'connect.total', expression: 'p(99) < 2s' }],
    },
    levels: [level(0, 100, 'passed'), level(1, 200, 'failed')],
    outcome: {
      end: 'found',
      rate: 100,
      failedAt: 200,
      harnessAt: null,
      tippedBy: 'latency',
      brokenBy: ['connect.total p(99) < 2s'],
      headline: 'the target sustained 100/s and failed at 200/s',
      advice: ['the harness was flagged at one level'],
    },
    thresholds: [
      { metric: 'breakpoint.rate', expression: '>= 50', passed: true, observed: 100, observedText: '100/s' },
      { metric: 'breakpoint.rate', expression: '>= 1000', passed: false, observed: 100, observedText: '100/s' },
    ],
    verdict: 'failed',
    exitCode: 1,
  } as BreakpointReport;
}

describe('breakpoint summaries lead with why', () => {
  it('terminal: headline, failed threshold, passed ones, the harness note, then the levels', () => {
    const lines = renderBreakpointSummary(breakpoint()).split('\n');
    expect(lines.slice(2, 8)).toEqual([
      'the target sustained 100/s and failed at 200/s',
      '  latency (from 3s): connect p99 rose to 3s',
      'threshold breakpoint.rate >= 1000: 100/s — failed',
      'threshold breakpoint.rate >= 50: 100/s — passed',
      '  the harness was flagged at one level',
      '',
    ]);
    expect(lines.slice(8).map((l) => l.slice(0, 2))).toEqual([' 1', ' 2']);
  });

  it('HTML: headline, failed threshold first, then the harness banner, then the levels', () => {
    const html = renderBreakpointHtml(breakpoint());
    const [headline, failed, passed, harness, levels] = at(
      html,
      '<h2>the target sustained 100/s and failed at 200/s</h2>',
      'breakpoint.rate &gt;= 1000: 100/s — failed',
      'breakpoint.rate &gt;= 50: 100/s — passed',
      '<strong>Harness</strong>',
      'id="levels"',
    );
    expect(headline).toBeGreaterThan(0);
    expect(failed).toBeGreaterThan(headline ?? 0);
    expect(passed).toBeGreaterThan(failed ?? 0);
    expect(harness).toBeGreaterThan(passed ?? 0);
    expect(levels).toBeGreaterThan(harness ?? 0);
  });
});
