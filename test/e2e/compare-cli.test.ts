/**
 * `herd compare` on real results files: a baseline against the embedded target, a candidate
 * against a loopback MQTT server that resets every other handshake, and a run with more devices.
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
    flaky = await run('flaky', ['--target', `mqtt://127.0.0.1:${broker.port}`]);
    bigger = await run('bigger', ['--devices', '200']);
  }, 120_000);

  afterAll(async () => {
    await broker?.stop();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('a run compared with itself passes with exit 0', async () => {
    const r = await runHerd(['compare', base, base]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/connect\.total\.p99\s+\S+\s+\S+\s+±0µs\s+±0\.0%\s+10%\s+same/);
    expect(r.stdout).toContain('Verdict: PASSED: no metric worse beyond tolerance');
  });

  it('a candidate whose target resets half the handshakes regresses: exit 1', async () => {
    const r = await runHerd(['compare', base, flaky, '--format', 'json']);
    expect(r.code).toBe(1);
    const c = JSON.parse(r.stdout) as { verdict: string; regressions: string[]; notes: string[]; rows: { key: string; base: number | null; candidate: number | null; status: string }[] };
    expect(c.verdict).toBe('regressed');
    const row = (k: string) => c.rows.find((x) => x.key === k);
    expect(row('errors.rate')).toMatchObject({ base: 0, candidate: 0.5, status: 'worse' });
    expect(row('attempts.failed')).toMatchObject({ base: 0, candidate: 50, status: 'worse' });
    expect(row('attempts.succeeded')).toMatchObject({ base: 100, candidate: 50, status: 'worse' });
    expect(c.regressions).toEqual(expect.arrayContaining(['errors.rate', 'connect.successRate', 'errors.network']));
    expect(c.notes[0]).toMatch(/^targets differ: mqtt:\/\/127\.0\.0\.1:\d+ vs mqtt:\/\/127\.0\.0\.1:\d+$/);

    const text = await runHerd(['compare', base, flaky]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/errors\.rate\s+0\.00%\s+50\.00%\s+\+50\.00pp\s+new\s+10%\s+WORSE/);
    const md = await runHerd(['compare', base, flaky, '--format', 'md']);
    expect(md.code).toBe(1);
    expect(md.stdout.split('\n')[0]).toBe('## herd compare · e2e-compare — ❌ REGRESSED');
  });

  it('refuses runs of different device counts with exit 2, saying why', async () => {
    const r = await runHerd(['compare', base, bigger]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('error E_COMPARE_SCENARIO:');
    expect(r.stderr).toContain('are runs of different scenarios');
    expect(r.stderr).toContain('  - device count differs: 100 vs 200\n');
    expect(r.stderr).toContain('  - waves differ: ramp-1: ramp 100 over 1s at 0s vs ramp-1: ramp 200 over 1s at 0s\n');
  });

  it('compares them anyway when allowed; the exit code follows the verdict', async () => {
    const r = await runHerd(['compare', base, bigger, '--allow-different-scenarios', '--format', 'json']);
    const c = JSON.parse(r.stdout) as { verdict: string; scenarioDifferences: string[]; rows: { key: string; base: number | null; candidate: number | null }[] };
    expect(r.code).toBe(c.verdict === 'regressed' ? 1 : 0);
    expect(c.scenarioDifferences[0]).toBe('device count differs: 100 vs 200');
    expect(c.rows.find((x) => x.key === 'attempts.planned')).toMatchObject({ base: 100, candidate: 200 });
    // With tolerances wide enough for any latency noise, the bigger clean run passes.
    const wide = await runHerd(['compare', base, bigger, '--allow-different-scenarios', '--max-regression', '100000%']);
    expect(wide.code).toBe(0);
  });

  it('rejects a bad tolerance flag with exit 2', async () => {
    const r = await runHerd(['compare', base, base, '--tolerance', 'connect.totl.p99=5%']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error E_FLAG: --tolerance: unknown metric "connect.totl.p99"');
    const m = await runHerd(['compare', base, base, '--max-regression', 'lots']);
    expect(m.code).toBe(2);
    expect(m.stderr).toContain('error E_FLAG: --max-regression: cannot read tolerance "lots"');
  });
});
