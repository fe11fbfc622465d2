/**
 * `herd report` on a real results file: a short run against the embedded target whose latency
 * threshold cannot hold (exit 1), then every format re-rendered from its results.json, and bad
 * files refused with exit 2.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runHerd, type CliResult, expectExit } from '../helpers/cli.js';
import { herdInProcess } from '../helpers/in-process.js';

const SCENARIO = `
name: e2e-report
devices: 120
device:
  connectTimeout: 5s
waves:
  - type: ramp
    name: warm
    devices: 60
    over: 1s
  - type: spike
    name: storm
    at: 2s
hold: 1s
thresholds:
  connect.total: ["p(99) < 1us"]
  errors.rate: ["< 1%"]
`;

describe('herd report', () => {
  let dir = '';
  let resultsPath = '';
  let run: CliResult;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herd-report-e2e-'));
    writeFileSync(join(dir, 'scenario.yaml'), SCENARIO);
    // --allow-saturated: a 1 µs p99 could pass with the harness's delay taken out, so on busy cores
    // the run could exit 3; the test is about the threshold and the formats.
    run = await runHerd(['run', join(dir, 'scenario.yaml'), '--out', join(dir, 'out'), '-q', '--allow-saturated']);
    const runId = readdirSync(join(dir, 'out'))[0] ?? '';
    resultsPath = join(dir, 'out', runId, 'results.json');
  });

  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('the run fails its impossible threshold with exit 1', () => {
    // stderr may carry preflight advice (e.g. TIME_WAIT from earlier runs), never an error.
    expect(run.stderr).not.toMatch(/error/i);
    expectExit(run, 1);
    expect(run.stdout).toContain('✗ connect.total: p(99) < 1us');
  });

  it('summary (the default) matches what the run printed', async () => {
    const r = await herdInProcess(['report', resultsPath]);
    expect(r.code).toBe(0);
    expect(run.stdout).toContain(r.stdout.trimEnd());
    expect(r.stdout).toContain('Verdict: FAILED (exit 1)');
  });

  it('md: the Markdown summary with the failed threshold and the verdict', async () => {
    const r = await herdInProcess(['report', resultsPath, '--format', 'md']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('## herd · e2e-report — ❌ FAILED');
    expect(r.stdout).toMatch(/\| ✗ \| `connect\.total` \| `p\(99\) < 1us` \| [\d.]+(µs|ms|s) \|/);
    expect(r.stdout).toContain('| ✓ | `errors.rate` | `< 1%` | 0.00% |');
    expect(r.stdout).toContain('**Verdict: FAILED** (exit 1)');
  });

  it('junit: a failing test case carrying observed vs expression', async () => {
    const r = await herdInProcess(['report', resultsPath, '--format', 'junit']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('<testsuite name="herd.e2e-report" tests="5" failures="1"');
    expect(r.stdout).toMatch(
      /<failure message="connect\.total: observed [\d.]+(µs|ms|s), expected p\(99\) &lt; 1us" type="threshold">/,
    );
  });

  it('csv: one row per second of the run, every attempt counted once', async () => {
    const r = await herdInProcess(['report', resultsPath, '--format', 'csv']);
    expect(r.code).toBe(0);
    const results = JSON.parse(readFileSync(resultsPath, 'utf8')) as {
      timeline: { buckets: unknown[] };
      attempts: { started: number };
    };
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(results.timeline.buckets.length + 1);
    const header = (lines[0] ?? '').split(',');
    const col = header.indexOf('attempts');
    const started = lines.slice(1).reduce((a, l) => a + Number(l.split(',')[col]), 0);
    expect(started).toBe(results.attempts.started);
    expect(started).toBe(120);
  });

  it('html -o: written atomically to a file, with all four charts', async () => {
    const out = join(dir, 'sub', 'report.html');
    const r = await herdInProcess(['report', resultsPath, '--format', 'html', '-o', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const html = readFileSync(out, 'utf8');
    for (const id of ['chart-connected', 'chart-outcomes', 'chart-latency-time', 'chart-distribution'])
      expect(html).toContain(`id="${id}"`);
    expect(html).toContain('data-wave="storm" data-wave-type="spike" data-at-s="2"');
    expect(readdirSync(join(dir, 'sub'))).toEqual(['report.html']);
  });

  it('json: the same results, re-validated', async () => {
    const r = await herdInProcess(['report', resultsPath, '--format', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(readFileSync(resultsPath, 'utf8')));
  });

  it('refuses a truncated file, a foreign JSON file and a 2.0.0 file with exit 2', async () => {
    const text = readFileSync(resultsPath, 'utf8');
    const cut = join(dir, 'cut.json');
    writeFileSync(cut, text.slice(0, Math.floor(text.length * 0.6)));
    const foreign = join(dir, 'package.json');
    writeFileSync(foreign, JSON.stringify({ name: 'not-herd', version: '1.0.0' }));
    const v2 = join(dir, 'v2.json');
    writeFileSync(v2, JSON.stringify({ ...JSON.parse(text), schemaVersion: '2.0.0' }));

    const a = await herdInProcess(['report', cut, '--format', 'html']);
    expect(a.code).toBe(2);
    expect(a.stdout).toBe('');
    expect(a.stderr).toBe(`error E_RESULTS_FILE: ${cut}: not valid JSON (truncated or not a herd results file)\n`);
    const b = await herdInProcess(['report', foreign]);
    expect(b.code).toBe(2);
    expect(b.stderr).toBe(
      `error E_RESULTS_FILE: ${foreign}: not a herd results file (expected tool.name "herd" and a schemaVersion)\n`,
    );
    const c = await herdInProcess(['report', v2, '--format', 'md']);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain(
      `error E_RESULTS_VERSION: ${v2}: results schema version "2.0.0" is not supported; this herd reads 1.x results files`,
    );
  });

  it('refuses an unknown format and names the flag', async () => {
    const r = await herdInProcess(['report', resultsPath, '--format', 'pdf']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error E_FLAG: --format: expected one of json, md, csv, junit, html, summary, got "pdf"\n');
  });
});
