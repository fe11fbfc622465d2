/**
 * The layer check (`npm run check:layers`, run first by `npm test`) must fail on an upward import:
 * the real .dependency-cruiser.cjs is run on a tiny tree of fixture modules in a temp directory.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../..');
const depcruise = join(repo, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const dirs: string[] = [];

/** Writes `files` (path → source) under a fresh temp dir and runs the project's layer rules on its src/. */
function check(files: Record<string, string>): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'herd-layers-'));
  dirs.push(dir);
  const all = {
    'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' } }),
    ...files,
  };
  for (const [path, text] of Object.entries(all)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const r = spawnSync(process.execPath, [depcruise, 'src', '--config', join(repo, '.dependency-cruiser.cjs')], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// Each case starts dependency-cruiser in its own process (a few seconds on a shared 2-core machine).
describe('layer rules', { timeout: 60_000 }, () => {
  it('pass imports that point down (run → engine → metrics → results)', () => {
    const r = check({
      'src/results/types.ts': 'export type Results = { ok: boolean };\n',
      'src/metrics/count.ts':
        "import type { Results } from '../results/types.js';\nexport const count = (r: Results): number => (r.ok ? 1 : 0);\n",
      'src/engine/runner.ts':
        "import { count } from '../metrics/count.js';\nexport const run = (): number => count({ ok: true });\n",
      'src/run/execute.ts': "import { run } from '../engine/runner.js';\nexport const execute = (): number => run();\n",
    });
    expect(r.output).not.toMatch(/error/);
    expect(r.status).toBe(0);
  });

  it('fail an upward import, even a type-only one, and name the rule and both files', () => {
    const r = check({
      'src/report/render.ts': 'export type Rendered = string;\n',
      'src/metrics/count.ts':
        "import type { Rendered } from '../report/render.js';\nexport const label: Rendered = 'x';\n",
    });
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('metrics-points-down: src/metrics/count.ts → src/report/render.ts');
  });

  it('fail a sideways import between engine/ and report/', () => {
    const r = check({
      'src/report/render.ts': 'export const render = (): string => "";\n',
      'src/engine/runner.ts':
        "import { render } from '../report/render.js';\nexport const run = (): string => render();\n",
    });
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('engine-points-down: src/engine/runner.ts → src/report/render.ts');
  });

  it('fail the embedded target importing the device-side engine', () => {
    const r = check({
      'src/engine/runner.ts': 'export const run = (): number => 1;\n',
      'src/target/main.ts': "import { run } from '../engine/runner.js';\nexport const main = (): number => run();\n",
    });
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('target-is-a-separate-program: src/target/main.ts → src/engine/runner.ts');
  });

  it('fail a runtime import cycle', () => {
    const r = check({
      'src/plan/a.ts': "import { b } from './b.js';\nexport const a = (): number => b() + 1;\n",
      'src/plan/b.ts': "import { a } from './a.js';\nexport const b = (): number => a.length;\n",
    });
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('error no-circular');
  });
});
