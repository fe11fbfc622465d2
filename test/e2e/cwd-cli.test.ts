/**
 * Every command resolves the paths it is given against the injected context's working directory,
 * never the process's: each command runs in-process with ctx.cwd a fresh temp folder,
 * relative paths only, and its files must land under that folder (and none under process.cwd()).
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { herdInProcess } from '../helpers/in-process.js';

const SCENARIO = `
name: e2e-cwd
devices: 8
device:
  connectTimeout: 5s
waves:
  - type: spike
    name: storm
hold: 500ms
breakpoint:
  startRate: 20
  maxLevels: 1
  settle: 1s
  measure: 1s
  drain: 500ms
`;

const NAMES = [
  'scenario.yaml',
  'shard-1',
  'shard-2',
  'merged.json',
  'report.md',
  'compare.md',
  'storm.ts',
  'xk6-mqtt.d.ts',
  'bp',
  'tls.yaml',
];

describe('commands resolve paths against ctx.cwd', () => {
  let cwd = '';
  const inCwd = (args: string[]) => herdInProcess(args, { cwd });
  const results = (folder: string): string => `${folder}/${readdirSync(join(cwd, folder))[0] ?? 'none'}/results.json`;

  beforeAll(() => {
    cwd = mkdtempSync(join(tmpdir(), 'herd-cwd-'));
    expect(cwd).not.toBe(process.cwd());
    writeFileSync(join(cwd, 'scenario.yaml'), SCENARIO);
  });

  afterAll(() => {
    for (const n of NAMES) expect(existsSync(join(process.cwd(), n)), `${n} written under process.cwd()`).toBe(false);
    if (cwd !== '') rmSync(cwd, { recursive: true, force: true });
  });

  it('validate reads the scenario from ctx.cwd', async () => {
    const r = await inCwd(['validate', 'scenario.yaml']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('validate reads a relative device.tls.ca against ctx.cwd, not the process working directory', async () => {
    // fixtures/tls/ca.crt exists under process.cwd() (the repository) but not under ctx.cwd.
    const tls = `name: e2e-cwd-tls
target: mqtts://127.0.0.1:8883
devices: 2
device: { tls: { ca: fixtures/tls/ca.crt } }
waves: [{ type: spike }]
`;
    writeFileSync(join(cwd, 'tls.yaml'), tls);
    const missing = await inCwd(['validate', 'tls.yaml']);
    expect(missing.code, missing.stderr).toBe(2);
    expect(missing.stderr).toContain(`device.tls.ca: ${join(cwd, 'fixtures/tls/ca.crt')}: no such file`);
    mkdirSync(join(cwd, 'fixtures/tls'), { recursive: true });
    copyFileSync(join(process.cwd(), 'fixtures/tls/ca.crt'), join(cwd, 'fixtures/tls/ca.crt'));
    const found = await inCwd(['validate', 'tls.yaml']);
    expect(found.stderr).toBe('');
    expect(found.code).toBe(0);
  });

  it('run reads the scenario and writes --out under ctx.cwd; merge, report and compare read and write there', async () => {
    for (const i of [1, 2]) {
      const r = await inCwd([
        'run',
        'scenario.yaml',
        '--shard',
        `${i}/2`,
        '--out',
        `shard-${i}`,
        '-q',
        '--allow-saturated',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(existsSync(join(cwd, results(`shard-${i}`)))).toBe(true);
    }
    const merged = await inCwd(['merge', results('shard-1'), results('shard-2'), '-o', 'merged.json', '-q']);
    expect(merged.code, merged.stderr).toBe(0);
    expect(existsSync(join(cwd, 'merged.json'))).toBe(true);

    const report = await inCwd(['report', 'merged.json', '--format', 'md', '-o', 'report.md']);
    expect(report.stderr).toBe(`wrote md to ${join(cwd, 'report.md')}\n`);
    expect(report.code).toBe(0);

    const compare = await inCwd(['compare', results('shard-1'), results('shard-2'), '-f', 'md', '-o', 'compare.md']);
    expect(compare.stderr).toBe(`wrote md comparison to ${join(cwd, 'compare.md')}\n`);
  });

  it('export k6 reads the scenario and writes the script and its types under ctx.cwd', async () => {
    const r = await inCwd(['export', 'k6', 'scenario.yaml', '-o', 'storm.ts']);
    expect(r.stderr).toBe(`wrote ${join(cwd, 'storm.ts')} and ${join(cwd, 'xk6-mqtt.d.ts')}\n`);
    expect(r.code).toBe(0);
    expect(existsSync(join(cwd, 'storm.ts'))).toBe(true);
  });

  it('breakpoint reads the scenario and writes --out under ctx.cwd', async () => {
    const r = await inCwd(['breakpoint', 'scenario.yaml', '--out', 'bp', '-q']);
    const [folder] = existsSync(join(cwd, 'bp')) ? readdirSync(join(cwd, 'bp')) : [];
    expect(folder, r.stderr).toMatch(/^breakpoint-/);
    expect(r.stdout).toContain(`breakpoint: ${join(cwd, 'bp', folder as string, 'breakpoint.json')}`);
    expect(existsSync(join(cwd, 'bp', folder as string, 'breakpoint.html'))).toBe(true);
  }, 120_000);
});
