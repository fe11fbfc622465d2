/**
 * Observed outages in the reports: named as not caused by herd in every format, and a fleet the
 * target never took back is the headline.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { checkResults } from '../../src/results/read.js';
import type { OutageResult, Results } from '../../src/results/types.js';
import { renderFormat } from '../../src/report/render.js';
import { fleetLostText } from '../../src/report/facts.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/results-quickstart.json', import.meta.url));
const load = (): Results => checkResults(JSON.parse(readFileSync(FIXTURE, 'utf8')), FIXTURE);

function observed(o: Partial<OutageResult>): OutageResult {
  return {
    name: 'observed-1',
    side: 'observed',
    atUs: 40_120_000,
    offlineUs: 20_480_000,
    mode: 'observed',
    targetAcceptedAgain: true,
    dropped: 5000,
    recovered: 5000,
    recovery: { p50Us: 7_200_000, p90Us: 21_700_000, p99Us: 27_400_000, p100Us: 29_000_000 },
    reconnectAttempts: { p50: 3, p99: 6, max: 7 },
    recoveryHistogram: '',
    attemptsHistogram: '',
    peakAttemptsPerS: 900,
    peakHandshaking: 40,
    peakSucceededPerSAfterEnd: 700,
    ...o,
  };
}

describe('observed outages in the reports', () => {
  it('every format names the outage as one herd did not cause, with when the target accepted again', () => {
    const r = load();
    r.outages = [observed({})];
    for (const format of ['summary', 'md', 'html', 'junit'] as const) {
      const text = renderFormat(r, format);
      expect(text, format).toContain(
        'observed-1: outage herd did not cause, from 40.1s; the target accepted again 20.5s later · hit 5000 · back 5000',
      );
    }
    expect(fleetLostText(r)).toBeNull();
  });

  it('a target that never accepted again is the headline of the summary, Markdown and HTML', () => {
    const r = load();
    r.outages = [
      observed({
        targetAcceptedAgain: false,
        recovered: 0,
        recovery: { p50Us: null, p90Us: null, p99Us: null, p100Us: null },
      }),
    ];
    const line =
      'The target went away at 40.1s and never accepted a connect again: 5000 devices lost, 0 back by the end (observed-1).';
    expect(fleetLostText(r)).toBe(line);
    const summary = renderFormat(r, 'summary').split('\n');
    expect(summary[2]).toBe(`  ${line}`);
    expect(renderFormat(r, 'md')).toContain(`> [!CAUTION]\n> **${line}**`);
    expect(renderFormat(r, 'html')).toContain(`id="fleet-lost-banner" role="alert"><strong>${line}</strong>`);
  });

  it('a run in which no device ever connected says so first, naming the commonest error', () => {
    const r = load();
    r.attempts = { ...r.attempts, started: 20, succeeded: 0, failed: 20 };
    r.errors = [
      { origin: 'network', phase: 'tcpConnect', code: 'ECONNRESET', count: 2 },
      { origin: 'protocol', phase: 'mqttConnack', code: 'CLOSED_BEFORE_CONNACK', count: 18 },
    ];
    const line =
      'No device ever connected: all 20 attempts failed or timed out (most: CLOSED_BEFORE_CONNACK at mqttConnack, 18).';
    expect(fleetLostText(r)).toBe(line);
    expect(renderFormat(r, 'summary').split('\n')[2]).toBe(`  ${line}`);
  });
});
