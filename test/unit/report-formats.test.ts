import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { checkResults } from '../../src/results/read.js';
import type { Results } from '../../src/results/types.js';
import { renderTimelineCsv } from '../../src/report/csv.js';
import { junitCases, renderJunit, xmlEscape } from '../../src/report/junit.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { renderHtml } from '../../src/report/html.js';
import { percentileCurve } from '../../src/report/html-charts.js';
import { REPORT_FORMATS, renderFormat, renderRunFiles } from '../../src/report/render.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/results-quickstart.json', import.meta.url));
const load = (): Results => checkResults(JSON.parse(readFileSync(FIXTURE, 'utf8')), FIXTURE);

/** The real quickstart run, turned into a failing, saturated one with hostile characters in names. */
function failing(): Results {
  const r = load();
  r.scenario.name = 'a<b>&"c"|d';
  r.thresholds[0] = {
    metric: 'connect.total',
    expression: 'p(99) < 1ms',
    passed: false,
    observed: 16079,
    observedText: '16.1ms',
  };
  r.thresholds.push({
    metric: 'attempts.failed',
    expression: '== 0',
    passed: false,
    observed: null,
    observedText: 'no samples',
  });
  r.health.saturated = true;
  r.health.affectsVerdict = true;
  r.health.reasons = ['worker 1: 3s in a row (4s–6s) past a limit: event-loop delay p99 up to 250ms (limit 200ms)'];
  r.health.effects = [
    'threshold connect.total p(99) < 1ms failed (observed 16.1ms) but could pass: would be 900µs without the schedule lag and 250ms of event-loop delay',
  ];
  r.health.advice = ['--allow-saturated exits by the thresholds alone (results.json records that it was given)'];
  r.errors = [
    { origin: 'protocol', phase: 'mqttConnack', code: 'CONNACK_03', count: 40 },
    { origin: 'local', phase: 'tcpConnect', code: 'EMFILE', count: 2 },
  ];
  r.run.verdict = 'failed';
  r.run.exitCode = 3;
  return r;
}

describe('timeline CSV', () => {
  it('has one row per second with every series, errors split by origin, nulls as empty cells', () => {
    const r = load();
    const lines = renderTimelineCsv(r).trimEnd().split('\n');
    expect(lines).toHaveLength(r.timeline.buckets.length + 1);
    expect(lines[0]).toBe(
      't,attempts,succeeded,failed,timedOut,dropped,disconnects,connected,handshaking,peakHandshaking,reconnects,offlineAttempts,' +
        'errors.local,errors.network,errors.tls,errors.protocol,errors.timeout,connectP50Us,connectP90Us,connectP99Us,connectMaxUs,loopDelayP99Us',
    );
    expect(lines[1]).toBe('0,100,100,0,0,0,0,100,0,0,0,0,0,0,0,0,0,1715,3241,73919,87551,71615');
    expect(lines[16]).toBe('15,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,,,,,20831');
  });

  it('counts errors by origin per second', () => {
    const r = load();
    const b = r.timeline.buckets[2];
    if (!b) throw new Error('fixture has no bucket 2');
    b.errorsByOrigin = { local: 1, network: 2, tls: 3, protocol: 4, timeout: 5 };
    expect(renderTimelineCsv(r).split('\n')[3]?.split(',').slice(12, 17)).toEqual(['1', '2', '3', '4', '5']);
  });
});

describe('JUnit XML', () => {
  it('makes each threshold a passing test case, plus accounting, saturation and completion', () => {
    const r = load();
    expect(junitCases(r).map((c) => [c.name, c.failure])).toEqual([
      ['connect.total: p(99) < 1s', null],
      ['errors.rate: < 1%', null],
      ['attempts.dropped: == 0', null],
      ['every planned attempt is accounted for', null],
      ['the harness did not decide the verdict', null],
      ['the run completed', null],
    ]);
    const xml = renderJunit(r);
    expect(xml).toContain('<testsuites name="herd" tests="6" failures="0" errors="0" time="15.100">');
    expect(xml).toContain('<testcase classname="herd.thresholds" name="connect.total: p(99) &lt; 1s" time="0">');
  });

  it('gives failing cases observed vs expression, escaped', () => {
    const xml = renderJunit(failing());
    expect(xml).toContain('tests="7" failures="3"');
    expect(xml).toContain('<testsuite name="herd.a&lt;b&gt;&amp;&quot;c&quot;|d"');
    expect(xml).toContain(
      '<failure message="connect.total: observed 16.1ms, expected p(99) &lt; 1ms" type="threshold">observed 16.1ms</failure>',
    );
    expect(xml).toContain(
      '<failure message="attempts.failed: no samples, so &quot;== 0&quot; cannot hold" type="threshold">',
    );
    expect(xml).toContain(
      '<failure message="The harness was saturated and could have decided the verdict (exit 3): worker 1: 3s in a row (4s–6s) past a limit: event-loop delay p99 up to 250ms (limit 200ms); ' +
        'threshold connect.total p(99) &lt; 1ms failed (observed 16.1ms) but could pass: would be 900µs without the schedule lag and 250ms of event-loop delay" type="run">',
    );
    // Nothing unescaped slips into attribute values.
    for (const m of xml.matchAll(/="([^"]*)"/g)) expect(m[1]).not.toMatch(/[<>]/);
  });

  it('xmlEscape replaces characters XML 1.0 cannot carry', () => {
    expect(xmlEscape('a\u0000b\u001bc & <d>')).toBe('a\uFFFDb\uFFFDc &amp; &lt;d&gt;');
  });
});

describe('Markdown summary', () => {
  it('shows run meta, attempts, latency per phase, thresholds and the verdict', () => {
    const md = renderMarkdown(load());
    expect(md.split('\n')[0]).toBe('## herd · quickstart — ✅ PASSED');
    expect(md).toContain(
      '| `20261121-054837-0e4c` | mqtt://127.0.0.1:37729 (embedded target, profile default) | 1000 | 2 | 15.1s | 1 | 0.1.0 |',
    );
    expect(md).toContain(
      '**succeeded 1000 of 1000 started (100.0%)** · connects failed 0 · timed out 0 · sessions lost 0 of 1000 established (0.0%)',
    );
    expect(md).toContain('| 1000 | 0 | 0 | 1000 | 1000 | 0 | 0 | 0 | 0 |');
    expect(md).toContain(
      '| total (from intended) <sub>`connect.total`</sub> | 1000 | 511µs | 1.54ms | 2.35ms | 16.1ms | 73.9ms | 87.6ms |',
    );
    expect(md).toContain('| ✓ | `connect.total` | `p(99) < 1s` | 16.1ms |');
    expect(md).toContain('No errors.');
    expect(md.split('\n')[2]).toBe('**Verdict: PASSED** (exit 0)');
  });

  it('warns about saturation, lists errors by origin and code, marks failed thresholds', () => {
    const md = renderMarkdown(failing());
    expect(md.split('\n')[0]).toBe('## herd · a\\<b\\>&"c"\\|d — ❌ FAILED');
    expect(md).toContain('> [!CAUTION]\n> **The harness was saturated and could have decided the verdict (exit 3):**');
    expect(md).toContain('> - effect: threshold connect.total p(99) \\< 1ms failed (observed 16.1ms) but could pass');
    expect(md).toContain(
      '> - to change: --allow-saturated exits by the thresholds alone (results.json records that it was given)',
    );
    expect(md).toContain('| protocol | mqttConnack | `CONNACK_03` | 40 | 4.00% of started |');
    expect(md).toContain('| **local** (the harness, not the target) | tcpConnect | `EMFILE` | 2 | 0.20% of started |');
    expect(md).toContain('| ✗ | `connect.total` | `p(99) < 1ms` | 16.1ms |');
    expect(md).toContain('**Verdict: FAILED** (exit 3)');
  });
});

describe('HTML report', () => {
  it('is one self-contained page: no external scripts, styles, images or fonts', () => {
    const html = renderHtml(load());
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script[^>]+src=|<link\b|<img\b|@import|url\(/);
    const urls = [...html.matchAll(/https?:\/\/[^\s"'<)]+/g)].map((m) => m[0]);
    expect(new Set(urls)).toEqual(new Set(['http://www.w3.org/2000/svg']));
  });

  it('draws the four charts with their data series, wave markers and tables', () => {
    const r = load();
    const html = renderHtml(r);
    for (const id of ['chart-connected', 'chart-outcomes', 'chart-latency-time', 'chart-distribution'])
      expect(html).toContain(`<svg id="${id}"`);
    const series = new Map(
      [...html.matchAll(/data-series="([^"]+)" data-points="(\d+)"[^>]* d="([^"]*)"/g)].map((m) => [
        m[1],
        { points: Number(m[2]), d: m[3] ?? '' },
      ]),
    );
    expect(series.get('connected')?.points).toBe(r.timeline.buckets.length + 1);
    expect(series.get('succeeded')?.points).toBe(10);
    expect(series.get('p99')?.points).toBe(r.timeline.buckets.filter((b) => b.connectP99Us !== null).length);
    for (const k of ['connected', 'succeeded', 'attempts', 'p50', 'p99', 'max', 'connect.total', 'phase.mqttConnack']) {
      expect(series.get(k)?.d ?? '', k).toMatch(/^M[\d.]+ [\d.]+/);
    }
    // connect.failed has no samples in this run, so no curve.
    expect(series.has('connect.failed')).toBe(false);
    expect(html).toContain('data-wave="ramp-up" data-wave-type="ramp" data-at-s="0"');
    expect(html).toContain('<table id="thresholds">');
    expect(html).toContain('<table id="latency-table">');
    expect(html).not.toContain('id="saturation-banner"');
  });

  it('shows a saturation banner and escapes names', () => {
    const html = renderHtml(failing());
    expect(html).toContain('id="saturation-banner"');
    expect(html).toContain('herd · a&lt;b&gt;&amp;&quot;c&quot;|d');
    expect(html).not.toContain('a<b>');
  });

  it('percentile curves come from the HDR histogram: start at the minimum, end at the maximum', () => {
    const s = load().latency['connect.total'];
    if (!s) throw new Error('fixture lacks connect.total');
    const pts = percentileCurve(s.histogram, s.count);
    expect(pts[0]).toEqual([0, s.minUs]);
    expect(pts[pts.length - 1]).toEqual([3, s.maxUs]);
    // 1 − 10^−2 = the 99th percentile, at x = 2 decades
    expect(pts.find(([d]) => Math.abs(d - 2) < 1e-9)?.[1]).toBe(s.p99Us);
    for (let i = 1; i < pts.length; i++)
      expect((pts[i] as [number, number])[1]).toBeGreaterThanOrEqual((pts[i - 1] as [number, number])[1]);
  });
});

describe('render registry', () => {
  it('renders every format and names the files written next to results.json', () => {
    const r = load();
    for (const f of REPORT_FORMATS) expect(renderFormat(r, f).length, f).toBeGreaterThan(100);
    expect(JSON.parse(renderFormat(r, 'json'))).toEqual(r);
    expect(renderFormat(r, 'summary')).toContain('Verdict: PASSED (exit 0)');
    const files = renderRunFiles(r);
    expect(files.map((f) => f.name)).toEqual(['summary.md', 'timeline.csv', 'junit.xml', 'report.html']);
    expect(files[0]?.content).toBe(renderMarkdown(r));
  });
});
