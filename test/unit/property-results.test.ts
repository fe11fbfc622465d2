/**
 * Property-based tests of the results reader (issue 9, "Bad input"): arbitrary JSON, truncated
 * files, mutated fields, foreign files and other major versions always give a Results or a HerdError
 * with exit code 2 and a message naming the file; a Results the reader accepts can be rendered in
 * every format and compared without an exception.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { HerdError } from '../../src/errors.js';
import { compareRuns } from '../../src/compare/compare.js';
import { renderCompareHtml, renderCompareText } from '../../src/compare/render.js';
import { mergeResults } from '../../src/run/merge.js';
import { checkResults, readResults } from '../../src/results/read.js';
import { renderFormat, REPORT_FORMATS } from '../../src/report/render.js';
import type { Results } from '../../src/results/types.js';
import { ROOT } from '../helpers/cli.js';

const FILE = 'prop-results.json';
const RUNS = 200;
const TIME_MS = 30_000;
const FIXTURE_PATH = join(ROOT, 'fixtures', 'results-quickstart.json');
const FIXTURE_TEXT = readFileSync(FIXTURE_PATH, 'utf8');
const FIXTURE = JSON.parse(FIXTURE_TEXT) as Record<string, unknown>;

type Outcome = { ok: true; results: Results } | { ok: false; error: HerdError };

function asHerdError(err: unknown): HerdError {
  if (err instanceof HerdError) return err;
  const e = err as Error;
  throw new Error(`threw ${e?.name ?? typeof err} instead of a HerdError: ${e?.message ?? String(err)}`);
}

function check(data: unknown): Outcome {
  try {
    return { ok: true, results: checkResults(data, FILE) };
  } catch (err) {
    return { ok: false, error: asHerdError(err) };
  }
}

// A path as read.ts prints it: a.b[0]["odd key"]; or "(top level)"; or the trailing count line.
const DETAIL_RE = /^(\(top level\)|[A-Za-z_$][\w$]*|\[)[^\n]*: \S|^… and \d+ more$/;

function checkOutcome(o: Outcome, file = FILE): void {
  if (o.ok) {
    // What the reader accepts, every consumer must handle.
    for (const f of REPORT_FORMATS) {
      try {
        expect(typeof renderFormat(o.results, f)).toBe('string');
      } catch (err) {
        throw new Error(`accepted results could not be rendered as ${f}: ${(err as Error).message}`);
      }
    }
    try {
      const c = compareRuns([FIXTURE as unknown as Results], [o.results], {
        basePaths: ['a.json'],
        candidatePaths: ['b.json'],
        maxRegression: { kind: 'relative', fraction: 0.1, text: '10%' },
        overrides: new Map(),
        allowDifferentScenarios: true,
        confidence: 0.99,
        judgeMax: false,
      });
      renderCompareText(c);
      renderCompareHtml(c, [FIXTURE as unknown as Results], [o.results]);
    } catch (err) {
      if (!(err instanceof HerdError))
        throw new Error(`accepted results could not be compared: ${(err as Error).message}`);
    }
    try {
      mergeResults([{ path: 'a.json', results: o.results }], 'merged-test');
    } catch (err) {
      if (!(err instanceof HerdError))
        throw new Error(`accepted results could not be merged: ${(err as Error).message}`);
    }
    return;
  }
  const e = o.error;
  expect(e.exitCode, `${e.code}: ${e.message}`).toBe(2);
  expect(['E_RESULTS_FILE', 'E_RESULTS_VERSION']).toContain(e.code);
  expect(e.message.startsWith(`${file}:`), e.message).toBe(true);
  expect(e.details.length).toBeLessThanOrEqual(21);
  for (const d of e.details) expect(d, 'detail without a field path').toMatch(DETAIL_RE);
}

function allPaths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = prefix.length > 0 ? [prefix] : [];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...allPaths(x, [...prefix, i])));
  else if (typeof v === 'object' && v !== null)
    for (const [k, x] of Object.entries(v)) out.push(...allPaths(x, [...prefix, k]));
  return out;
}

function setAt(root: unknown, path: readonly (string | number)[], value: unknown, remove = false): unknown {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let cur = copy;
  for (const seg of path.slice(0, -1)) cur = cur[seg] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (remove) {
    if (Array.isArray(cur)) cur.splice(last as number, 1);
    else delete cur[last];
  } else cur[last] = value;
  return copy;
}

const HOSTILE: unknown[] = [
  null,
  true,
  0,
  -0,
  -1,
  0.5,
  1e308,
  -1e308,
  2 ** 53 + 1,
  '',
  'x',
  'AAAA',
  '1.0.0',
  '∞ 🐄',
  [],
  [null],
  {},
  { a: 1 },
];
const hostileValue = fc.oneof(fc.constantFrom(...HOSTILE), fc.jsonValue({ maxDepth: 2 }));

describe('results reader', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herd-prop-results-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts the fixture', () => {
    const o = check(FIXTURE);
    expect(o.ok).toBe(true);
    checkOutcome(o);
  });

  it('arbitrary JSON values', { timeout: TIME_MS }, () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), (v) => checkOutcome(check(v))),
      { numRuns: RUNS },
    );
  });

  it('arbitrary JSON objects that claim to be herd 1.x', { timeout: TIME_MS }, () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })), (extra) => {
        checkOutcome(check({ ...extra, tool: { name: 'herd', version: '0.1.0' }, schemaVersion: '1.0.0' }));
      }),
      { numRuns: RUNS },
    );
  });

  it(
    'truncations of fixtures/results-quickstart.json at many cut points, through the file reader',
    { timeout: TIME_MS },
    () => {
      const p = join(dir, 'truncated.json');
      fc.assert(
        fc.property(fc.integer({ min: 0, max: FIXTURE_TEXT.trimEnd().length - 1 }), (cut) => {
          writeFileSync(p, FIXTURE_TEXT.slice(0, cut));
          let o: Outcome;
          try {
            o = { ok: true, results: readResults(p) };
          } catch (err) {
            o = { ok: false, error: asHerdError(err) };
          }
          // Any cut before the closing brace loses data: it must never be accepted.
          expect(o.ok, `cut at ${cut} was accepted`).toBe(false);
          checkOutcome(o, p);
        }),
        { numRuns: RUNS },
      );
    },
  );

  it('any field replaced by a hostile value', { timeout: TIME_MS }, () => {
    // Histogram texts have their own test below, so a failure here points at another field.
    const paths = allPaths(FIXTURE).filter((p) => !p.some((seg) => seg === 'histogram' || seg === 'connectHistogram'));
    fc.assert(
      fc.property(fc.constantFrom(...paths), hostileValue, (path, value) =>
        checkOutcome(check(setAt(FIXTURE, path, value))),
      ),
      { numRuns: RUNS },
    );
  });

  it('any field removed', { timeout: TIME_MS }, () => {
    const paths = allPaths(FIXTURE);
    fc.assert(
      fc.property(fc.constantFrom(...paths), (path) => checkOutcome(check(setAt(FIXTURE, path, undefined, true)))),
      { numRuns: RUNS },
    );
  });

  it('every top-level field replaced by each hostile value', { timeout: TIME_MS }, () => {
    for (const key of Object.keys(FIXTURE)) for (const v of HOSTILE) checkOutcome(check({ ...FIXTURE, [key]: v }));
  });

  it('the latency histograms replaced by arbitrary text still render or are refused', { timeout: TIME_MS }, () => {
    const paths = allPaths(FIXTURE).filter(
      (p) => p[p.length - 1] === 'histogram' || p[p.length - 1] === 'connectHistogram',
    );
    expect(paths.length).toBeGreaterThan(0);
    fc.assert(
      fc.property(
        fc.constantFrom(...paths),
        fc.oneof(fc.string(), fc.base64String(), fc.constant('HISTFAAAACR42pNpmSzMwMDAwQABzFAaxmey/wSxGQA=')),
        (path, text) => {
          checkOutcome(check(setAt(FIXTURE, path, text)));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('other major versions are refused with E_RESULTS_VERSION naming the version', { timeout: TIME_MS }, () => {
    for (const v of ['2.0.0', '0.9.0', '10.0.0']) {
      const o = check({ ...FIXTURE, schemaVersion: v });
      checkOutcome(o);
      expect(o.ok).toBe(false);
      if (!o.ok) {
        expect(o.error.code).toBe('E_RESULTS_VERSION');
        expect(o.error.message).toContain(v);
        expect(o.error.message).toContain('1.x');
      }
    }
    fc.assert(
      fc.property(
        fc.nat(1000).filter((m) => m !== 1),
        fc.nat(100),
        fc.nat(100),
        (a, b, c) => {
          const o = check({ ...FIXTURE, schemaVersion: `${a}.${b}.${c}` });
          checkOutcome(o);
          expect(o.ok).toBe(false);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('arbitrary schemaVersion strings are refused or accepted only as 1.x.y', { timeout: TIME_MS }, () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (v) => {
        const o = check({ ...FIXTURE, schemaVersion: v });
        checkOutcome(o);
        if (o.ok) expect(v).toMatch(/^1\.\d+\.\d+$/);
        // The message must show which version was found; a blank one must be visible as such.
        if (!o.ok && o.error.code === 'E_RESULTS_VERSION') {
          expect(o.error.message).toContain(v);
          if (v.trim() === '') expect(o.error.message).toMatch(/""|empty|blank/);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('foreign files are refused as not herd results', () => {
    const foreign: [string, string | Buffer][] = [
      ['package.json', readFileSync(join(ROOT, 'package.json'), 'utf8')],
      ['tsconfig.json', readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')],
      ['scenario.yaml', readFileSync(join(ROOT, 'scenarios', 'quickstart.yaml'), 'utf8')],
      ['k6-summary.json', JSON.stringify({ metrics: { http_req_duration: { avg: 1 } }, root_group: {} })],
      ['other-tool.json', JSON.stringify({ ...FIXTURE, tool: { name: 'k6', version: '1.0.0' } })],
      ['empty.json', ''],
      ['null.json', 'null'],
      ['binary.json', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xff, 0x00])],
      ['bom.json', '\ufeff' + FIXTURE_TEXT],
    ];
    for (const [name, content] of foreign) {
      const p = join(dir, name);
      writeFileSync(p, content);
      let o: Outcome;
      try {
        o = { ok: true, results: readResults(p) };
      } catch (err) {
        o = { ok: false, error: asHerdError(err) };
      }
      checkOutcome(o, p);
      if (name !== 'bom.json') expect(o.ok, name).toBe(false);
    }
  });
});
