/**
 * `herd compare` on real results files: a baseline against the embedded target (twice), a
 * candidate against a loopback MQTT server that resets every other handshake, and a run with more
 * devices. The runs pass --allow-saturated: this file tests compare, not the harness's verdict on
 * itself, and no assertion here depends on how quiet the machine is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectExit, runHerd } from '../helpers/cli.js';

const SCENARIO = `
name: e2e-compare
devices: 100
device:
  connectTimeout: 5s
waves:
  - type: ramp
    over: 1s
hold: 1s
`;

/** Answers every other MQTT CONNECT with CONNACK 0 and resets the rest. */
async function startFlakyBroker(): Promise<{ port: number; stop(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let handshakes = 0;
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.once('data', () => {
      if (handshakes++ % 2 === 0) s.write(Buffer.from([0x20, 0x02, 0x00, 0x00]));
      else s.resetAndDestroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('herd compare', () => {
  let dir = '';
  let base = '';
  let base2 = '';
  let flaky = '';
  let bigger = '';
  let broker: { port: number; stop(): Promise<void> } | null = null;

  async function run(name: string, extra: string[]): Promise<string> {
    const out = join(dir, name);
    const r = await runHerd(['run', join(dir, 'scenario.yaml'), '--out', out, '-q', '--allow-saturated', ...extra]);
    expectExit(r, 0);
    return join(out, readdirSync(out)[0] ?? '', 'results.json');
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herd-compare-e2e-'));
    writeFileSync(join(dir, 'scenario.yaml'), SCENARIO);
    broker = await startFlakyBroker();
    base = await run('base', []);
    base2 = await run('base2', []);
    flaky = await run('flaky', ['--target', `mqtt://127.0.0.1:${broker.port}`]);
    bigger = await run('bigger', ['--devices', '200']);
  }, 120_000);

  afterAll(async () => {
    await broker?.stop();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('a run compared with itself passes with exit 0', async () => {
    const r = await runHerd(['compare', base, base]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/connect\.total\.p99\s+\S+\s+\S+\s+±0µs\s+±0\.0%\s+same/);
    expect(r.stdout.split('\n')[1]).toBe(
      'Verdict: PASSED: no metric worse beyond noise — tolerance 10%, noise floors, 99% significance',
    );
    expect(r.stdout).toContain('Configuration: the same');
    expect(r.stdout).toContain('Nothing moved beyond noise.');
  });

  it('several runs per side: both base runs pooled, their spread in the floors, exit code from the verdict', async () => {
    const r = await runHerd(['compare', base, base2, '--candidate', flaky, '--format', 'json']);
    const c = JSON.parse(r.stdout) as {
      verdict: string;
      base: { path: string }[];
      candidate: { path: string }[];
      rows: { key: string; baseRuns: number[]; floor: { why: string } | null }[];
    };
    // The candidate's broker resets every other CONNECT: half its attempts fail, whatever the noise.
    expect(c.verdict).toBe('regressed');
    expect(r.code, r.stderr).toBe(1);
    expect(c.base.map((x) => x.path)).toEqual([base, base2]);
    expect(c.candidate.map((x) => x.path)).toEqual([flaky]);
    expect(c.rows.find((x) => x.key === 'connect.total.p50')?.baseRuns).toHaveLength(2);
    const bad = await runHerd(['compare', base, base2, flaky]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('got 3 files without --candidate');
  });

  it('a candidate whose target resets half the handshakes regresses: exit 1', async () => {
    const r = await runHerd(['compare', base, flaky, '--format', 'json']);
    expect(r.code, r.stderr).toBe(1);
    const c = JSON.parse(r.stdout) as {
      verdict: string;
      regressions: string[];
      configuration: { field: string; base: string; candidate: string; same: boolean }[];
      rows: {
        key: string;
        base: number | null;
        candidate: number | null;
        status: string;
        test: { name: string; p: number } | null;
      }[];
    };
    expect(c.verdict).toBe('regressed');
    const row = (k: string) => c.rows.find((x) => x.key === k);
    expect(row('errors.rate')).toMatchObject({
      base: 0,
      candidate: 0.5,
      status: 'worse',
      test: { name: 'two-proportion' },
    });
    expect(row('errors.rate')?.test?.p).toBeLessThan(0.01);
    expect(row('connect.successRate')).toMatchObject({ base: 1, candidate: 0.5, status: 'worse' });
    // Counts are context; the shares over started attempts are what is judged.
    expect(row('attempts.failed')).toMatchObject({ base: 0, candidate: 50, status: 'info' });
    expect(c.regressions).toEqual(expect.arrayContaining(['errors.rate', 'connect.successRate', 'errors.network']));
    // The target differs, and is named first; the embedded target's own port is never the difference.
    expect(c.configuration[0]).toMatchObject({ field: 'target', base: 'embedded, profile default', same: false });
    expect(c.configuration[0]?.candidate).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);

    const text = await runHerd(['compare', base, flaky]);
    expect(text.code, text.stderr).toBe(1);
    expect(text.stdout).toMatch(
      /errors\.rate\s+0\.00%\s+50\.00%\s+\+50\.00pp\s+new\s+0\.10pp\s+<0\.0001\s+WORSE: more errors/,
    );
    const md = await runHerd(['compare', base, flaky, '--format', 'md']);
    expect(md.code, md.stderr).toBe(1);
    expect(md.stdout.split('\n')[0]).toBe('## herd compare · e2e-compare — ❌ REGRESSED');
  });

  it('refuses runs of different device counts with exit 2, saying why', async () => {
    const r = await runHerd(['compare', base, bigger]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('error E_COMPARE_SCENARIO:');
    expect(r.stderr).toContain('are runs of different scenarios');
    expect(r.stderr).toContain('  - device count differs: 100 vs 200\n');
    expect(r.stderr).toContain('  - waves differ: ramp-1: ramp 100 over 1s at 0s vs ramp-1: ramp 200 over 1s at 0s\n');
  });

  it('compares them anyway when allowed; with tolerances wide enough for any noise, the bigger clean run passes', async () => {
    const r = await runHerd([
      'compare',
      base,
      bigger,
      '--allow-different-scenarios',
      '--max-regression',
      '100000%',
      '--format',
      'json',
    ]);
    const c = JSON.parse(r.stdout) as {
      verdict: string;
      scenarioDifferences: string[];
      rows: { key: string; base: number | null; candidate: number | null }[];
    };
    expect(c.verdict).toBe('passed');
    expect(r.code, r.stderr).toBe(0);
    expect(c.scenarioDifferences[0]).toBe('device count differs: 100 vs 200');
    expect(c.rows.find((x) => x.key === 'attempts.planned')).toMatchObject({ base: 100, candidate: 200 });
  });

  it('rejects a bad tolerance flag with exit 2', async () => {
    const r = await runHerd(['compare', base, base, '--tolerance', 'connect.totl.p99=5%']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('error E_FLAG: --tolerance: unknown metric "connect.totl.p99"');
    const m = await runHerd(['compare', base, base, '--max-regression', 'lots']);
    expect(m.code, m.stderr).toBe(2);
    expect(m.stderr).toContain('error E_FLAG: --max-regression: cannot read tolerance "lots"');
  });
});
