/**
 * `run.names` where a run is read: a file written before it reads as none and the reports say
 * nothing; with targets given by name, the summary and the Markdown say where the attempts went.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readResults } from '../../src/results/read.js';
import type { Results } from '../../src/results/types.js';
import { namesText } from '../../src/report/facts.js';
import { renderHtml } from '../../src/report/html.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { renderSummary } from '../../src/report/summary.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/results-quickstart.json', import.meta.url));

describe('host names in the reports', () => {
  it('a file from before run.names reads as none, and the reports say nothing of it', () => {
    const r = readResults(FIXTURE);
    expect(r.run.names).toEqual([]);
    expect(namesText(r)).toBeNull();
    expect(renderSummary(r)).not.toContain('  names ');
    expect(renderMarkdown(r)).not.toContain('Host names:');
    expect(renderHtml(r)).not.toContain('<dt>host names</dt>');
  });

  it('says per name where the attempts went and how often it was looked up', () => {
    const base = readResults(FIXTURE);
    const r: Results = {
      ...base,
      run: {
        ...base.run,
        names: [
          {
            host: 'cloud.invalid',
            lookups: 3,
            failedLookups: 1,
            addresses: {
              '127.0.0.1': { attempts: 1500, succeeded: 1500, failed: 0 },
              '127.0.0.2': { attempts: 1499, succeeded: 1487, failed: 12 },
            },
          },
          { host: 'localhost', lookups: 1, failedLookups: 0, addresses: {} },
        ],
      },
    };
    const text =
      'cloud.invalid → 127.0.0.1 ×1,500 · 127.0.0.2 ×1,499 (12 failed) (3 lookups, 1 failed); localhost → no address (1 lookup)';
    expect(namesText(r)).toBe(text);
    expect(renderSummary(r)).toContain(`  names ${text}\n`);
    expect(renderMarkdown(r)).toContain('Host names: cloud.invalid → 127.0.0.1 ×1,500');
    expect(renderHtml(r)).toContain(
      '<dt>host names</dt><dd>cloud.invalid → 127.0.0.1 ×1,500 · 127.0.0.2 ×1,499 (12 failed)',
    );
  });
});
