/**
 * An outage some devices never came back from: every format names how many were still out when the
 * run ended, next to hit and back (a reader should not have to subtract).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { checkResults } from '../../src/results/read.js';
import type { OutageResult, Results } from '../../src/results/types.js';
import { renderFormat } from '../../src/report/render.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/results-quickstart.json', import.meta.url));
const load = (): Results => checkResults(JSON.parse(readFileSync(FIXTURE, 'utf8')), FIXTURE);

function outage(dropped: number, recovered: number, interrupted = 0): OutageResult {
  return {
    name: 'carrier-outage',
    side: 'device',
    atUs: 27_000_000,
    offlineUs: 10_000_000,
    mode: 'reset',
    dropped,
    recovered,
    interrupted,
    recovery: { p50Us: 4_380_000, p90Us: 6_210_000, p99Us: null, p100Us: null },
    reconnectAttempts: { p50: 1, p99: 4, max: 9 },
    recoveryHistogram: '',
    attemptsHistogram: '',
    peakAttemptsPerS: 709,
    peakHandshaking: 953,
    peakSucceededPerSAfterEnd: 243,
  };
}

describe('devices an outage hit that never came back', () => {
  it('are counted in the outage line of every format', () => {
    const r = load();
    r.outages = [outage(1000, 957)];
    for (const format of ['summary', 'md', 'html', 'junit'] as const)
      expect(renderFormat(r, format), format).toContain(
        'carrier-outage: reset at 27s for 10s · hit 1000 · back 957 · 43 not back by the end · 50% 4.38s · 90% 6.21s · 99% never · all never',
      );
  });

  it('hit again by a later outage before they were back: said so, apart from those still out at the end', () => {
    const r = load();
    // 1,000 hit; 667 back; 300 hit by the next outage first (they count in its own figures); 33 out at the end.
    r.outages = [outage(1000, 667, 300)];
    for (const format of ['summary', 'md', 'html', 'junit'] as const)
      expect(renderFormat(r, format), format).toContain(
        'carrier-outage: reset at 27s for 10s · hit 1000 · back 667 · 300 hit by a later outage before they were back · 33 not back by the end ·',
      );
    r.outages = [outage(1000, 667, 333)];
    expect(renderFormat(r, 'summary')).toContain('back 667 · 333 hit by a later outage before they were back · 50%');
    expect(renderFormat(r, 'summary')).not.toContain('not back by the end');
  });

  it('are not mentioned when every hit device came back', () => {
    const r = load();
    r.outages = [outage(1000, 1000)];
    expect(renderFormat(r, 'summary')).toContain(
      'carrier-outage: reset at 27s for 10s · hit 1000 · back 1000 · 50% 4.38s',
    );
    expect(renderFormat(r, 'summary')).not.toContain('not back by the end');
  });
});
