/**
 * Issue 22, output side: control characters from names never reach a terminal or summary.md raw,
 * a tampered results file is not rendered with a ✓ identity line, and an error with 40,000 problems
 * prints a bounded number of lines. Run in-process through the real CLI where a command is involved.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import type { CliContext } from '../../src/cli/context.js';
import { MAX_DETAILS } from '../../src/cli/output.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { renderSummary } from '../../src/report/summary.js';
import { renderHtml } from '../../src/report/html.js';
import type { Results } from '../../src/results/types.js';
import { readResults } from '../../src/results/read.js';
import { escapeControl, escapeControlDeep } from '../../src/util/control-chars.js';
import { listenerSlots } from '../../src/target/process.js';
import { portsPerProcess } from '../../src/scenario/target-options.js';
import { ROOT } from '../helpers/cli.js';

const DIR = mkdtempSync(join(tmpdir(), 'herd-escape-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));
const fixture = (): Results => readResults(join(ROOT, 'fixtures', 'results-quickstart.json'));
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const ctx = {
    argv,
    env: { NO_COLOR: '1', CI: '1' },
    cwd: DIR,
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    wallClockMs: () => Date.now(),
    onSignal: () => () => undefined,
  } as CliContext;
  const code = await runCli(ctx);
  return { code, out, err };
}

describe('control characters are escaped', () => {
  it('escapeControl writes C0, DEL, C1 and bidi overrides as \\xNN / \\uNNNN', () => {
    expect(escapeControl('a\u001b]0;pwned\u0007b')).toBe('a\\x1b]0;pwned\\x07b');
    expect(escapeControl('x\u007fy\u0085z\u202e')).toBe('x\\x7fy\\x85z\\u202e');
    expect(escapeControl('one\ntwo\tthree')).toBe('one\ntwo\tthree');
    expect(escapeControl('one\ntwo', false)).toBe('one\\x0atwo');
    expect(escapeControlDeep({ 'k\u001b': ['v\u0000'] })).toEqual({ 'k\\x1b': ['v\\x00'] });
  });

  it('a scenario and cohort name with ESC sequences: summary and summary.md carry none raw', () => {
    const r = fixture();
    r.scenario.name = 'evil\u001b[2J\u001b]0;title\u0007';
    const md = renderMarkdown(r);
    const summary = renderSummary(r);
    expect(md).not.toMatch(RAW);
    expect(summary).not.toMatch(RAW);
    expect(md).toMatch(/evil\\+x1b/);
    expect(summary).toContain('evil\\x1b[2J');
  });

  it('validate prints a name with ESC escaped', async () => {
    const file = join(DIR, 'esc.yaml');
    writeFileSync(file, 'name: "a\\e[31mred"\ndevices: 1\nwaves: [{type: spike}]\n');
    const { code, out } = await cli(['validate', file]);
    expect(code).toBe(0);
    expect(out).not.toMatch(RAW);
    expect(out).toContain('scenario "a\\x1b[31mred" is valid');
  });
});

describe('a tampered results file', () => {
  it('is rendered with ✗, not ✓, when its counts do not balance, in every text format', async () => {
    const r = fixture();
    expect(r.accounting.balanced).toBe(true);
    r.attempts.succeeded += 7; // the recorded verdict still says balanced
    expect(renderSummary(r)).toContain('✗ planned');
    expect(renderSummary(r)).not.toContain('✓ planned');
    expect(renderMarkdown(r)).toContain('✗ **Accounting mismatch:**');
    expect(renderHtml(r)).toContain('id="accounting-banner"');
    const file = join(DIR, 'tampered.json');
    writeFileSync(file, JSON.stringify(r));
    const { out } = await cli(['report', file, '-f', 'summary']);
    expect(out).toContain('MISMATCH');
  });

  it('an untouched file keeps its ✓', () => {
    expect(renderSummary(fixture())).toMatch(/✓ planned/);
  });
});

describe('many problems', () => {
  it('40,000 unknown keys print at most 50 problems and "… and N more"', { timeout: 60_000 }, async () => {
    const keys = Array.from({ length: 40_000 }, (_, i) => `k${i}: 1`).join('\n');
    const file = join(DIR, 'many.yaml');
    writeFileSync(file, `name: t\ndevices: 1\nwaves: [{type: spike}]\n${keys}\n`);
    const { code, err } = await cli(['validate', file]);
    expect(code).toBe(2);
    const lines = err.trimEnd().split('\n');
    expect(lines).toHaveLength(1 + MAX_DETAILS + 1);
    expect(lines.at(-1)).toBe(`  … and ${40_000 - MAX_DETAILS} more`);
  });
});

describe('embedded target ports', () => {
  it('the scenario check counts the listeners the target opens', () => {
    expect(listenerSlots({ tls: false })).toHaveLength(portsPerProcess(false));
    expect(listenerSlots({ tls: true })).toHaveLength(portsPerProcess(true));
    expect([portsPerProcess(false), portsPerProcess(true)]).toEqual([3, 5]);
  });
});
