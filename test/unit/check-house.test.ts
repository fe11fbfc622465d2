/**
 * `npm run check:house` (scripts/check-house.js) on small inline samples written to a temp src/:
 * a line counts its code and comments, never the text of string or template literals.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const script = resolve(import.meta.dirname, '../../scripts/check-house.js');
const dirs: string[] = [];

function check(files: Record<string, string>): { status: number | null; lines: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'herd-house-'));
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const r = spawnSync(process.execPath, [script, 'src'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  expect(r.stderr).toBe('');
  return { status: r.status, lines: r.stdout.trim().split('\n') };
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const x = (n: number): string => 'x'.repeat(n);

describe('check-house', () => {
  it('passes a tree within the rules, counting 120 characters as allowed', () => {
    const r = check({
      'src/a.ts': `let ${x(111)} = 1;\n`, // 4 + 111 + 5 = 120 characters
      'src/b/c.ts': 'export const n = 1;\n'.repeat(350),
      'src/b/d.js': `let ${x(200)} = 1;\n`, // only TypeScript is checked
    });
    expect(r.lines).toEqual(['0 offences (files over 350 lines, lines over 120 chars outside literals)']);
    expect(r.status).toBe(0);
  });

  it('names each long line with its characters outside literals, and each long file', () => {
    const r = check({
      'src/code.ts': `let ${x(112)} = 1;\n`, // 121 characters of code
      'src/comment.ts': `const a = 1;\n// ${x(130)}\n`, // comments count: 133
      'src/literal.ts': `const s = '${x(200)}';\n`, // only "const s = ;" counts
      'src/mixed.ts': `f('${x(100)}', ${x(119)});\n`, // f( , ...); = 2 + 2 + 119 + 2 = 125
      'src/template.ts': `const t = \`${x(60)}\${${x(115)}}${x(60)}\`;\n`, // the quotes, ${ and } belong to the literal: 10 + 115 + 1
      'src/template-ok.ts': `const t = \`${x(100)}\${a}${x(100)}\`;\n`,
      'src/crlf.ts': `let ${x(111)} = 1;\r\nlet ${x(112)} = 1;\r\n`,
      'src/long.ts': 'export const n = 1;\n'.repeat(351),
    });
    expect(r.lines).toEqual([
      'src/code.ts:1: 121 chars',
      'src/comment.ts:2: 133 chars',
      'src/crlf.ts:2: 121 chars',
      'src/long.ts: 351 lines (over 350)',
      'src/mixed.ts:1: 125 chars',
      'src/template.ts:1: 126 chars',
      '6 offences (files over 350 lines, lines over 120 chars outside literals)',
    ]);
    expect(r.status).toBe(1);
  });
});
