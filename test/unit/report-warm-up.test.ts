/**
 * The workers' warm-up is labelled wherever a run is read: results.json records it per worker
 * (health.workers[].warmUp, 1.5), the summary and the Markdown say it never reached the target, and
 * a file written before 1.5 reads as having none; a run with --no-warm-up says it started cold.
 */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { readResults } from '../../src/results/read.js';
import type { Results } from '../../src/results/types.js';
import { warmUpText } from '../../src/report/facts.js';
import { renderSummary } from '../../src/report/summary.js';
import { renderMarkdown } from '../../src/report/markdown.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/results-quickstart.json', import.meta.url));

function withWarmUp(r: Results, warm: ({ handshakes: number; elapsedMs: number } | null)[]): Results {
  const workers = warm.map((w, i) => ({
    ...(r.health.workers[0] as Results['health']['workers'][number]),
    worker: i,
    warmUp: w,
  }));
  return { ...r, health: { ...r.health, workers } };
}

describe('warm-up in the reports', () => {
  it('a file from before 1.5 has none, and says nothing of it', () => {
    const r = readResults(FIXTURE);
    expect(r.health.workers.map((w) => w.warmUp)).toEqual(r.health.workers.map(() => null));
    expect(warmUpText(r)).toBeNull();
  });

  it('sums the handshakes, takes the slowest worker, and says the target never saw them', () => {
    const r = withWarmUp(readResults(FIXTURE), [
      { handshakes: 4096, elapsedMs: 1_204 },
      { handshakes: 4096, elapsedMs: 1_388 },
      null,
    ]);
    const text = "8,192 handshakes on herd's own loopback listeners (not the target) in 1.4s, before the origin";
    expect(warmUpText(r)).toBe(text);
    expect(renderSummary(r)).toContain(`  warm-up ${text}\n`);
    expect(renderMarkdown(r)).toContain(`Warm-up: ${text}.\n`);
    expect(warmUpText(withWarmUp(r, [{ handshakes: 2, elapsedMs: 40 }]))).toBe(
      "2 handshakes on herd's own loopback listener (not the target) in 0.0s, before the origin",
    );
  });

  it('says a run made with --no-warm-up started cold (1.6)', () => {
    const base = readResults(FIXTURE);
    const r: Results = { ...base, run: { ...base.run, warmUp: false } };
    const text =
      "off (--no-warm-up): the storm started on code V8 had not optimised, so herd's own CPU per connection was higher in its first seconds";
    expect(warmUpText(r)).toBe(text);
    expect(renderSummary(r)).toContain(`  warm-up ${text}\n`);
    expect(renderMarkdown(r)).toContain(`Warm-up: ${text}.\n`);
    expect(base.run.warmUp).toBeNull();
  });
});
