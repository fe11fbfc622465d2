import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { checkResults, readResults } from '../../src/results/read.js';
import { resultsJsonSchemaText } from '../../src/results/schema.js';
import { renderResultsDoc, resultsFieldDocs } from '../../src/results/schema-doc.js';
import { HerdError } from '../../src/errors.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = join(ROOT, 'fixtures/results-quickstart.json');
const fixture = (): Record<string, unknown> => JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>;

function herdError(fn: () => unknown): HerdError {
  try {
    fn();
  } catch (err) {
    if (err instanceof HerdError) return err;
    throw err;
  }
  throw new Error('expected a HerdError');
}

describe('results schema', () => {
  it('the committed schemas/results.schema.json is generated from the zod schema (run node dist/results/schema-write.js)', () => {
    expect(readFileSync(join(ROOT, 'schemas/results.schema.json'), 'utf8')).toBe(resultsJsonSchemaText());
  });

  it('the committed docs/results.md is generated from the zod schema', () => {
    expect(readFileSync(join(ROOT, 'docs/results.md'), 'utf8')).toBe(renderResultsDoc());
  });

  it('documents every field with a description, units included for µs fields', () => {
    const docs = resultsFieldDocs();
    const paths = docs.map((d) => d.path);
    for (const p of [
      'run.exitCode',
      'attempts.planned',
      'latency.<key>.p99Us',
      'timeline.buckets[].connectP99Us',
      'scenario.waves[] (type=ramp).overUs',
      'thresholds[].observed',
    ]) {
      expect(paths).toContain(p);
    }
    expect(docs.filter((d) => d.description === '').map((d) => d.path)).toEqual([]);
    for (const d of docs.filter((x) => /Us$/.test(x.path))) expect(d.description).toMatch(/µs/);
  });

  it('the real quickstart results file validates, and fields added since are filled with their defaults', () => {
    const r = checkResults(fixture(), 'fixture.json');
    expect(r.scenario.name).toBe('quickstart');
    expect(r.attempts.planned).toBe(1000);
    expect(r.scenario.cohorts).toEqual([]);
    expect(r.outages).toEqual([]);
    expect(r.timeline.buckets[0]?.connectHistogram).toBeNull();
  });

  it('keeps fields it does not know (a later 1.y file) instead of dropping them', () => {
    const data = fixture();
    data.futureField = { a: 1 };
    (data.run as Record<string, unknown>).futureRunField = 'x';
    const r = checkResults(data, 'f.json') as unknown as Record<string, unknown>;
    expect(r.futureField).toEqual({ a: 1 });
    expect((r.run as Record<string, unknown>).futureRunField).toBe('x');
  });

  it('refuses a foreign JSON file and another major version with clear messages', () => {
    const foreign = herdError(() => checkResults({ name: 'my-app', version: '1.0.0' }, 'package.json'));
    expect(foreign.code).toBe('E_RESULTS_FILE');
    expect(foreign.message).toBe(
      'package.json: not a herd results file (expected tool.name "herd" and a schemaVersion)',
    );
    const data = fixture();
    data.schemaVersion = '2.0.0';
    const v2 = herdError(() => checkResults(data, 'new.json'));
    expect(v2.code).toBe('E_RESULTS_VERSION');
    expect(v2.exitCode).toBe(2);
    expect(v2.message).toContain('results schema version "2.0.0" is not supported; this herd reads 1.x results files');
  });

  it('names every bad field by its path', () => {
    const data = fixture();
    const latency = data.latency as Record<string, Record<string, unknown>>;
    (latency['connect.total'] as Record<string, unknown>).p99Us = 'fast';
    (data.attempts as Record<string, unknown>).failed = -1;
    delete (data as { health?: unknown }).health;
    const err = herdError(() => checkResults(data, 'bad.json'));
    expect(err.code).toBe('E_RESULTS_FILE');
    expect(err.message).toBe('bad.json: not a valid herd 1.x results file (3 problems)');
    expect(err.details).toEqual([
      'attempts.failed: Too small: expected number to be >=0',
      'latency["connect.total"].p99Us: Invalid input: expected number, received string',
      'health: Invalid input: expected object, received undefined',
    ]);
  });

  it('refuses a run time that is not an ISO 8601 time (a merge turned "x" into an Invalid Date)', () => {
    const data = fixture();
    (data.run as Record<string, unknown>).endedAt = 'x';
    const err = herdError(() => checkResults(data, 'bad.json'));
    expect(err.code).toBe('E_RESULTS_FILE');
    expect(err.details).toEqual(['run.endedAt: Invalid ISO datetime']);
  });

  it('readResults reports a truncated file and a missing one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'herd-read-'));
    try {
      const text = readFileSync(FIXTURE, 'utf8');
      const cut = join(dir, 'cut.json');
      writeFileSync(cut, text.slice(0, Math.floor(text.length / 2)));
      expect(herdError(() => readResults(cut)).message).toBe(
        `${cut}: not valid JSON (truncated or not a herd results file)`,
      );
      expect(herdError(() => readResults(join(dir, 'none.json'))).message).toBe(
        `${join(dir, 'none.json')}: cannot read the results file (no such file)`,
      );
      expect(readResults(FIXTURE).run.id).toBe('20261121-054837-0e4c');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
