/**
 * One run, one meaning per number: every format rendered from one results file (a real fragile
 * carrier-outage run: `herd run scenarios/carrier-outage.yaml --target-profile fragile
 * --allow-saturated`) states the same success share, peaks, recovery, lost sessions, shedding and
 * target — and the figures in results.json are the ones the timeline gives.
 */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { readResults } from '../../src/results/read.js';
import type { Results } from '../../src/results/types.js';
import { renderFormat } from '../../src/report/render.js';
import { mdEscape } from '../../src/report/markdown.js';
import { xmlEscape } from '../../src/report/junit.js';
import { outagePeakAfterEnd, runFacts, timelinePeaks } from '../../src/report/facts.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/results-carrier-outage-fragile.json', import.meta.url));

function formats(r: Results): { summary: string; md: string; html: string; junit: string; csv: string } {
  return {
    summary: renderFormat(r, 'summary'),
    md: renderFormat(r, 'md'),
    html: renderFormat(r, 'html'),
    junit: renderFormat(r, 'junit'),
    csv: renderFormat(r, 'csv'),
  };
}

/** Each human-readable format with the escaping it applies to a fact. */
function humanFormats(r: Results): [name: string, text: string, escape: (s: string) => string][] {
  const f = formats(r);
  return [
    ['summary', f.summary, (s) => s],
    ['md', f.md, mdEscape],
    ['html', f.html, xmlEscape],
    ['junit', f.junit, xmlEscape],
  ];
}

function csvColumn(csv: string, name: string): number[] {
  const [head, ...rows] = csv.trimEnd().split('\n');
  const i = (head ?? '').split(',').indexOf(name);
  expect(i, name).toBeGreaterThanOrEqual(0);
  return rows.map((row) => Number(row.split(',')[i]));
}

describe('every output of one run agrees', () => {
  const r = readResults(FIXTURE);
  const facts = runFacts(r);

  it('the fixture is the storm it claims to be', () => {
    expect(r.scenario.name).toBe('carrier-outage');
    expect(r.run.allowSaturated).toBe(true);
    expect(r.attempts.offline).toBeGreaterThan(0);
    expect(r.outages).toHaveLength(1);
    expect(r.outages[0]?.dropped).toBe(3000);
  });

  it('states one success share, of attempts started, everywhere', () => {
    const a = r.attempts;
    expect(facts.success).toBe(
      `succeeded ${a.succeeded} of ${a.started} started (${((a.succeeded / a.started) * 100).toFixed(1)}%)`,
    );
    for (const [name, text, escape] of humanFormats(r)) {
      expect(text, name).toContain(escape(facts.success));
      // No second share: nothing of planned attempts, or of attempts that include the offline ones never sent.
      expect(text, name).not.toMatch(/% of attempts|% of planned|of started\)/);
      const shares = [...text.matchAll(/succeeded (\d+) of (\d+) started/g)].map((m) => `${m[1]}/${m[2]}`);
      expect(new Set(shares), name).toEqual(new Set([`${a.succeeded}/${a.started}`]));
    }
    // connect.successRate, the threshold metric, is the same share.
    expect(renderFormat(r, 'json')).toContain(`"started": ${a.started}`);
  });

  it('names connect failures and lost sessions apart, each with its denominator', () => {
    for (const [name, text, escape] of humanFormats(r)) {
      expect(text, name).toContain(escape(facts.connectFailures));
      expect(text, name).toContain(escape(facts.sessionsLost));
      expect(text, name).not.toMatch(/\d+ failures among/);
    }
    expect(facts.errorsRate).toBe(`errors.rate 50.81% = (failed 0 + timed out 4735) / 9319 started`);
  });

  it('gives the same peaks, taken from the timeline, in every format and in results.json', () => {
    const peaks = timelinePeaks(r);
    const csv = formats(r).csv;
    expect(Math.max(...csvColumn(csv, 'succeeded'))).toBe(peaks.succeededPerS);
    expect(Math.max(...csvColumn(csv, 'attempts'))).toBe(peaks.attemptsPerS);
    expect(r.storm.peakSucceededPerS).toBe(peaks.succeededPerS);
    expect(r.storm.peakAttemptsPerS).toBe(peaks.attemptsPerS);
    expect(facts.peaks).toBe(
      `peak ${peaks.succeededPerS} successes/s · ${peaks.attemptsPerS} attempts/s · ${peaks.handshaking} handshakes in flight`,
    );
    for (const [name, text, escape] of humanFormats(r)) expect(text, name).toContain(escape(facts.peaks));
  });

  it('gives the same recovery and post-outage peak of successes in every format and in results.json', () => {
    const o = r.outages[0];
    if (!o) throw new Error('no outage');
    // From the second the outage ended in (the run has no later outage to stop at).
    expect(r.outages).toHaveLength(1);
    const endS = Math.floor((o.atUs + o.offlineUs) / 1e6);
    const csv = formats(r).csv;
    const t = csvColumn(csv, 't');
    const after = csvColumn(csv, 'succeeded').filter((_, i) => (t[i] as number) >= endS);
    expect(o.peakSucceededPerSAfterEnd).toBe(Math.max(...after));
    expect(outagePeakAfterEnd(r, o)).toBe(o.peakSucceededPerSAfterEnd);
    expect(facts.outages).toHaveLength(1);
    expect(facts.outages[0]).toContain(`hit 3000 · back ${o.recovered}`);
    expect(facts.outages[0]).toContain(`peak ${o.peakSucceededPerSAfterEnd} successes/s after it ended`);
    for (const [name, text, escape] of humanFormats(r))
      expect(text, name).toContain(escape(facts.outages[0] as string));
  });

  it('names the embedded target’s profile and knobs in every header', () => {
    expect(facts.target).toMatch(
      /^mqtt:\/\/127\.0\.0\.1:\d+ \(embedded target, profile fragile: CONNECT costs 2ms CPU, no admission control, cap 3000 connections per process, 1 process\)$/,
    );
    for (const [name, text, escape] of humanFormats(r)) expect(text, name).toContain(escape(facts.target));
  });

  it('shows MQTT 5 load shedding apart, the same in every format', () => {
    const shed: Results = {
      ...r,
      errors: [
        ...r.errors,
        { origin: 'protocol', phase: 'mqttConnack', code: 'CONNACK_89', count: 120 },
        { origin: 'protocol', phase: 'mqttConnack', code: 'CONNACK_9F', count: 30 },
        { origin: 'protocol', phase: 'held', code: 'DISCONNECT_89', count: 7 },
        { origin: 'protocol', phase: 'mqttConnack', code: 'CONNACK_03', count: 5 },
      ],
    };
    // From the embedded target CONNACK 3 is its admission control shedding (results/shedding.ts),
    // as herd compare counts it; from another target it is an unexplained "server unavailable".
    expect(shed.run.embeddedTarget).toBe(true);
    const f = runFacts(shed);
    expect(f.shedding).toBe(
      'the target shed load (MQTT 5 server busy / connection rate exceeded, HTTP 429/503, CONNACK 3 from the embedded target’s admission control): 155 connect attempts refused, 7 sessions ended',
    );
    for (const [name, text, escape] of humanFormats(shed)) expect(text, name).toContain(escape(f.shedding as string));
    const remote: Results = { ...shed, run: { ...shed.run, embeddedTarget: false } };
    expect(runFacts(remote).shedding).toBe(
      'the target shed load (MQTT 5 server busy / connection rate exceeded, HTTP 429/503): 150 connect attempts refused, 7 sessions ended',
    );
    expect(runFacts(r).shedding).toBeNull();
    for (const [name, text] of humanFormats(r)) expect(text, name).not.toContain('the target shed load');
  });

  it('a 0-second outage that hit nobody says so instead of "99% 0µs"', () => {
    const o = r.outages[0];
    if (!o) throw new Error('no outage');
    const none: Results = {
      ...r,
      outages: [
        { ...o, offlineUs: 0, dropped: 0, recovered: 0, recovery: { p50Us: 0, p90Us: 0, p99Us: 0, p100Us: 0 } },
      ],
    };
    const line = runFacts(none).outages[0] as string;
    expect(line).toBe('carrier-outage: reset at 12s for 0µs · hit 0 · back 0 · no device was hit, nothing to recover');
    for (const [name, text, escape] of humanFormats(none)) {
      expect(text, name).toContain(escape(line));
      expect(text, name).not.toContain('99% 0µs');
    }
  });
});
